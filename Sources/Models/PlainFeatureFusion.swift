import NeuralNet
import Torch

/// ConDSeg's "without CDFA" ablation (`condseg` option `cdfa: false`): a CDFA with its two guided
/// attention passes (`v`, `attn_fg`, `attn_bg`, `proj`) taken out, i.e. the same input and output
/// convolutions, CBR3×3(in→dim) → CBR3×3 → CBR3×3 → CBR3×3, on the same fused input and with no
/// foreground/background guide. Keys `input_cbr.*`, `output_cbr.*` as in the CDFA.
final class PlainFeatureFusion: Module, UnaryLayer {
    let inputCbr: Sequential, outputCbr: Sequential

    init(_ cin: Int, dim: Int = 128) throws {
        inputCbr = Sequential(try ConvBNReLU(cin, dim), try ConvBNReLU(dim, dim))
        outputCbr = Sequential(try ConvBNReLU(dim, dim), try ConvBNReLU(dim, dim))
        super.init()
    }

    func callAsFunction(_ x: Tensor) throws -> Tensor { try outputCbr(try inputCbr(x)) }
}
