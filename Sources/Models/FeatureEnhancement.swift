import NeuralNet
import Torch

/// ConDSeg's FEM (`dilated_conv`, METHODS §4.2): four CBR + channel-attention branches (1×1 and
/// 3×3 with dilations 6, 12, 18), concatenated and fused by a 3×3 CBR without ReLU, plus a 1×1
/// CBR shortcut without ReLU, then ReLU and spatial attention.
final class FeatureEnhancement: Module, UnaryLayer {
    let c1: Sequential, c2: Sequential, c3: Sequential, c4: Sequential
    let c5: ConvBNReLU, c6: ConvBNReLU
    let sa: SpatialAttention

    init(_ cin: Int, _ cout: Int) throws {
        func branch(_ kernel: Int, _ dilation: Int) throws -> Sequential {
            Sequential(try ConvBNReLU(cin, cout, kernel: kernel, dilation: dilation), try ChannelAttention(cout))
        }
        c1 = try branch(1, 1)
        c2 = try branch(3, 6)
        c3 = try branch(3, 12)
        c4 = try branch(3, 18)
        c5 = try ConvBNReLU(4 * cout, cout, kernel: 3, act: false)
        c6 = try ConvBNReLU(cin, cout, kernel: 1, act: false)
        sa = try SpatialAttention()
        super.init()
    }

    func callAsFunction(_ x: Tensor) throws -> Tensor {
        let xc = try c5(try Tensor.cat([try c1(x), try c2(x), try c3(x), try c4(x)], dim: 1))
        return try sa(try (xc + (try c6(x))).reluInPlace())
    }
}
