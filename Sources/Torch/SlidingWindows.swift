import CTorch

extension Tensor {
    /// Every k×k window of an (N, C, H, W) tensor with stride 1 and zero padding `padding`, as
    /// (N, C, k², H′, W′) with H′ = H + 2·padding − k + 1: slot j = ky·k + kx holds the input at
    /// (y + ky − padding, x + kx − padding). `F.unfold` with stride 1, reshaped to keep the grid.
    public func slidingWindows(kernel k: Int, padding p: Int) throws -> Tensor {
        guard rank == 4 else { throw TorchError("slidingWindows needs an (N, C, H, W) tensor, got shape \(shape)") }
        guard k >= 1, p >= 0 else { throw TorchError("slidingWindows: kernel must be ≥ 1 and padding ≥ 0, got \(k), \(p)") }
        let h = shape[2] + 2 * p - k + 1, w = shape[3] + 2 * p - k + 1
        guard h >= 1, w >= 1 else { throw TorchError("slidingWindows: a \(k)×\(k) window does not fit shape \(shape) with padding \(p)") }
        // at::im2col gives (N, C·k², H′·W′), channel-major: the same memory as (N, C, k², H′, W′).
        return try map { ct_im2col($0, Int64(k), Int64(p), $1) }.reshape([shape[0], shape[1], k * k, h, w])
    }

    /// The adjoint of `slidingWindows` (`F.fold` with stride 1): sums each window slot back onto
    /// the pixel it was read from, so an (N, C, k², H′, W′) tensor gives (N, C, H, W) with
    /// H = H′ − 2·padding + k − 1, overlapping contributions added (not averaged).
    public func foldSlidingWindows(kernel k: Int, padding p: Int) throws -> Tensor {
        guard rank == 5, shape[2] == k * k else {
            throw TorchError("foldSlidingWindows needs an (N, C, \(k * k), H, W) tensor, got shape \(shape)")
        }
        let h = shape[3] - 2 * p + k - 1, w = shape[4] - 2 * p + k - 1
        guard h >= 1, w >= 1, p >= 0 else { throw TorchError("foldSlidingWindows: padding \(p) too large for shape \(shape)") }
        guard p < k else { throw TorchError("foldSlidingWindows: padding \(p) must be < kernel \(k)") }
        let columns = try reshape([shape[0], shape[1] * k * k, shape[3] * shape[4]])
        return try columns.map { ct_col2im($0, Int64(h), Int64(w), Int64(k), Int64(p), $1) }
    }
}
