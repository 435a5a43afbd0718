import NeuralNet
import Torch

/// A small 2D U-Net (two 3×3 conv–BN–ReLU blocks per level, max-pool down, transposed-conv up,
/// skip concatenation). Used by `contour demo` and `contour bench engine`; the same network is
/// in benchmarks/engine_reference.py. The full model zoo arrives with the Models layer.
final class TinyUNet: Module, UnaryLayer {
    final class Block: Module, UnaryLayer {
        let body: Sequential
        init(_ cin: Int, _ cout: Int) throws {
            body = try Sequential(Conv2d(cin, cout, kernelSize: 3, padding: 1), BatchNorm2d(cout), ReLU(),
                                  Conv2d(cout, cout, kernelSize: 3, padding: 1), BatchNorm2d(cout), ReLU())
            super.init()
        }
        func callAsFunction(_ x: Tensor) throws -> Tensor { try body(x) }
    }

    let encoders: [Block]
    let ups: [ConvTranspose2d]
    let decoders: [Block]
    let head: Conv2d

    init(inChannels: Int = 1, classes: Int = 2, base: Int = 16, levels: Int = 3) throws {
        let widths = (0..<levels).map { base << $0 }
        var enc: [Block] = []
        var cin = inChannels
        for w in widths {
            enc.append(try Block(cin, w))
            cin = w
        }
        encoders = enc
        ups = try (1..<levels).reversed().map { try ConvTranspose2d(widths[$0], widths[$0 - 1], kernelSize: 2, stride: 2) }
        decoders = try (1..<levels).reversed().map { try Block(2 * widths[$0 - 1], widths[$0 - 1]) }
        head = try Conv2d(widths[0], classes, kernelSize: 1)
        super.init()
    }

    func callAsFunction(_ x: Tensor) throws -> Tensor {
        var skips: [Tensor] = []
        var y = x
        for (i, e) in encoders.enumerated() {
            if i > 0 { y = try y.maxPool(kernel: [2]) }
            y = try e(y)
            skips.append(y)
        }
        for (i, (up, dec)) in zip(ups, decoders).enumerated() {
            let skip = skips[skips.count - 2 - i]
            y = try dec(Tensor.cat([try up(y), skip], dim: 1))
        }
        return try head(y)
    }
}
