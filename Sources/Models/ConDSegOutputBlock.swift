import NeuralNet
import Torch

/// ConDSeg's `output_block` (§4.5): concat the small, middle (up×2) and large (up×4) decoder
/// features, CBR3×3 fuse, up×2, CBR3×3 → CBR1×1(→64) → 1×1 conv. Returns logits (the official
/// final Sigmoid has no weights).
final class ConDSegOutputBlock: Module {
    let fuse: ConvBNReLU, c1: ConvBNReLU, c2: ConvBNReLU
    let c3: Conv2d

    init(_ cin: Int, _ cout: Int = 1) throws {
        fuse = try ConvBNReLU(3 * cin, cin)
        c1 = try ConvBNReLU(cin, 128)
        c2 = try ConvBNReLU(128, 64, kernel: 1)
        c3 = try Conv2d(64, cout, kernelSize: 1)
        super.init()
    }

    func callAsFunction(small: Tensor, middle: Tensor, large: Tensor) throws -> Tensor {
        let m = try middle.interpolate(scale: [2, 2], mode: .linear, alignCorners: true)
        let l = try large.interpolate(scale: [4, 4], mode: .linear, alignCorners: true)
        let fused = try ConvBNReLU.up2()(try fuse(try Tensor.cat([small, m, l], dim: 1)))
        return try c3(try c2(try c1(fused)))
    }
}
