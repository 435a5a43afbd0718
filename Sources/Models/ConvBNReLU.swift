import NeuralNet
import Torch

/// ConDSeg's CBR: conv (no bias) → BatchNorm → ReLU when `act`; keys `conv.0.weight`, `conv.1.*`.
final class ConvBNReLU: Module, UnaryLayer {
    let conv: Sequential
    let act: Bool

    init(_ cin: Int, _ cout: Int, kernel: Int = 3, padding: Int? = nil, dilation: Int = 1, act: Bool = true) throws {
        conv = Sequential(try Conv2d(cin, cout, kernelSize: kernel, padding: padding ?? dilation * (kernel / 2), dilation: dilation, bias: false),
                          try BatchNorm2d(cout))
        self.act = act
        super.init()
    }

    func callAsFunction(_ x: Tensor) throws -> Tensor {
        let y = try conv(x)
        return act ? try y.reluInPlace() : y
    }

    /// Bilinear ×2 with `align_corners=True`, the upsampling every ConDSeg block uses.
    static func up2() -> Upsample { Upsample(scale: [2, 2], mode: .linear, alignCorners: true) }
}
