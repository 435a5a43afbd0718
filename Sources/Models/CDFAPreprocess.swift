import NeuralNet
import Torch

/// Brings a decoupled 1/16 feature to a CDFA's scale (§4.4): CBR3×3, then log2(scale) times
/// (up×2, CBR3×3). Keys as the official module: `preprocess.conv_i.*`, then `c1.*`.
final class CDFAPreprocess: Module, UnaryLayer {
    let preprocess: NamedSequence
    let c1: ConvBNReLU

    init(_ cin: Int, _ cout: Int, scale: Int) throws {
        guard scale >= 1, scale & (scale - 1) == 0 else { throw TorchError("CDFAPreprocess: scale \(scale) is not a power of two") }
        var steps: [(String, any UnaryLayer)] = []
        for i in 0..<(scale.trailingZeroBitCount) {
            steps.append(("up_\(i)", ConvBNReLU.up2()))
            steps.append(("conv_\(i)", try ConvBNReLU(cout, cout)))
        }
        preprocess = NamedSequence(steps)
        c1 = try ConvBNReLU(cin, cout)
        super.init()
    }

    func callAsFunction(_ x: Tensor) throws -> Tensor { try preprocess(try c1(x)) }
}

/// Layers applied in order under given names (an `nn.Sequential` built with `add_module`).
final class NamedSequence: Module, UnaryLayer {
    // Two arrays, not an array of tuples, so the reflection can see the modules.
    let names: [String]
    let layers: [any UnaryLayer]

    init(_ steps: [(String, any UnaryLayer)]) {
        names = steps.map(\.0)
        layers = steps.map(\.1)
        super.init()
    }

    func callAsFunction(_ x: Tensor) throws -> Tensor {
        var y = x
        for layer in layers { y = try layer(y) }
        return y
    }

    override func namedChildren() -> [(name: String, module: Module)] { Array(zip(names, layers.map { $0 as Module })) }
}
