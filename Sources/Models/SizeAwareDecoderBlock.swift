import NeuralNet
import Torch

/// ConDSeg's `decoder_block` (§4.5): up×2, concat with the skip, CBR1×1, three densely added
/// residual convs (3×3, 3×3, 1×1, no ReLU inside), then channel and spatial attention.
final class SizeAwareDecoderBlock: Module {
    let c1: ConvBNReLU, c2: ConvBNReLU, c3: ConvBNReLU, c4: ConvBNReLU
    let ca: ChannelAttention, sa: SpatialAttention

    init(_ cin: Int, _ cout: Int) throws {
        c1 = try ConvBNReLU(cin + cout, cout, kernel: 1)
        c2 = try ConvBNReLU(cout, cout, act: false)
        c3 = try ConvBNReLU(cout, cout, act: false)
        c4 = try ConvBNReLU(cout, cout, kernel: 1, act: false)
        ca = try ChannelAttention(cout)
        sa = try SpatialAttention()
        super.init()
    }

    func callAsFunction(_ x: Tensor, skip: Tensor) throws -> Tensor {
        let up = try ConvBNReLU.up2()(x)
        let s1 = try c1(try Tensor.cat([up, skip], dim: 1))
        let s2 = try (try c2(s1) + s1).reluInPlace()
        let s3 = try (try c3(s2) + s2 + s1).reluInPlace()
        let y = try (try c4(s3) + s3 + s2 + s1).reluInPlace()
        return try sa(try ca(y))
    }
}
