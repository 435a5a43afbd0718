import NeuralNet
import Torch

/// ConDSeg's auxiliary head (§4.3): per decoupled feature, CBR → up×2 four times (256, 256, 128,
/// 64 channels), CBR(64→64) and a 1×1 conv to one channel, back at input resolution from 1/16.
/// It returns logits: the official module's final Sigmoid (index 10, no weights) is left to the
/// objective, so keys match (`branch_fg.0.conv.0.weight` … `branch_fg.9.bias`).
final class AuxiliaryHead: Module {
    let branchFg: Sequential, branchBg: Sequential, branchUc: Sequential

    init(_ cin: Int) throws {
        func branch() throws -> Sequential {
            Sequential([try ConvBNReLU(cin, 256), ConvBNReLU.up2(), try ConvBNReLU(256, 256), ConvBNReLU.up2(),
                        try ConvBNReLU(256, 128), ConvBNReLU.up2(), try ConvBNReLU(128, 64), ConvBNReLU.up2(),
                        try ConvBNReLU(64, 64), try Conv2d(64, 1, kernelSize: 1)])
        }
        branchFg = try branch()
        branchBg = try branch()
        branchUc = try branch()
        super.init()
    }

    func callAsFunction(fg: Tensor, bg: Tensor, uc: Tensor) throws -> (fg: Tensor, bg: Tensor, uc: Tensor) {
        (try branchFg(fg), try branchBg(bg), try branchUc(uc))
    }
}
