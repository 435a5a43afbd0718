import NeuralNet
import Torch

/// ConDSeg's CDFA (§4.4): window attention whose weights come from the foreground, then the
/// background features. Per pixel p a linear map of F gives, per head, a K²×K² matrix A_p
/// (output slot i × input slot j, scaled by head_dim^−½, softmax over j); the values are the K×K
/// window of V around p; Y_p = A_p·U_p is folded back by summing each slot onto its pixel; a
/// shared projection follows. The second pass uses G on the first pass's output.
/// Keys follow the official module: `v`, `attn_fg`, `attn_bg`, `proj`, `input_cbr`, `output_cbr`.
final class ContrastDrivenFeatureAggregation: Module {
    let v: Linear, attnFg: Linear, attnBg: Linear, proj: Linear
    let inputCbr: Sequential, outputCbr: Sequential
    let dim: Int, heads: Int, kernel: Int, padding: Int

    init(_ cin: Int, dim: Int = 128, heads: Int = 4, kernel: Int = 3, padding: Int = 1) throws {
        guard heads >= 1, dim % heads == 0 else { throw TorchError("CDFA: dim \(dim) is not divisible by heads \(heads)") }
        guard kernel == 2 * padding + 1 else { throw TorchError("CDFA: kernel \(kernel) needs padding \((kernel - 1) / 2) to keep the size") }
        self.dim = dim
        self.heads = heads
        self.kernel = kernel
        self.padding = padding
        let k4 = kernel * kernel * kernel * kernel
        v = try Linear(dim, dim)
        attnFg = try Linear(dim, k4 * heads)
        attnBg = try Linear(dim, k4 * heads)
        proj = try Linear(dim, dim)
        inputCbr = Sequential(try ConvBNReLU(cin, dim), try ConvBNReLU(dim, dim))
        outputCbr = Sequential(try ConvBNReLU(dim, dim), try ConvBNReLU(dim, dim))
        super.init()
    }

    func callAsFunction(_ x: Tensor, fg: Tensor, bg: Tensor) throws -> Tensor {
        let xi = try inputCbr(x)
        guard fg.shape == xi.shape, bg.shape == xi.shape else {
            throw TorchError("CDFA: foreground \(fg.shape) and background \(bg.shape) must match the features \(xi.shape)")
        }
        let values = try Self.channelwise(xi, v)
        let xFg = try attend(values, guide: fg, attnFg)
        let xBg = try attend(xFg, guide: bg, attnBg)
        return try outputCbr(xBg)
    }

    /// A per-pixel linear map of an (N, C, H, W) tensor.
    static func channelwise(_ x: Tensor, _ layer: Linear) throws -> Tensor {
        try layer(try x.permute([0, 2, 3, 1])).permute([0, 3, 1, 2])
    }

    /// proj(Fold(softmax(s·W·guide) ⊗ Unfold(values))), all (N, dim, H, W).
    func attend(_ values: Tensor, guide: Tensor, _ layer: Linear) throws -> Tensor {
        let n = values.shape[0], h = values.shape[2], w = values.shape[3]
        let k2 = kernel * kernel, hd = dim / heads, l = h * w
        // (N, H, W, heads·K²·K²) → (N, heads, L, K², K²): head-major, output slot, input slot.
        let scores = try layer(try guide.permute([0, 2, 3, 1])).reshape([n, l, heads, k2, k2]).permute([0, 2, 1, 3, 4])
        let attn = try (scores * (1 / Double(hd).squareRoot())).softmax(dim: -1)
        // Windows (N, C, K², H, W) with C = (head, head_dim) → (N, heads, L, K², head_dim).
        let windows = try values.slidingWindows(kernel: kernel, padding: padding)
            .reshape([n, heads, hd, k2, l]).permute([0, 1, 4, 3, 2])
        let weighted = try attn.matmul(windows)  // (N, heads, L, K², head_dim)
        let folded = try weighted.permute([0, 1, 4, 3, 2]).reshape([n, dim, k2, h, w])
            .foldSlidingWindows(kernel: kernel, padding: padding)
        return try Self.channelwise(folded, proj)
    }
}
