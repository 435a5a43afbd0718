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
        let padded = p > 0 ? try pad([p, p, p, p]) : self
        var slots: [Tensor] = []
        slots.reserveCapacity(k * k)
        for ky in 0..<k {
            let rows = try padded.narrow(dim: 2, start: ky, length: h)
            for kx in 0..<k { slots.append(try rows.narrow(dim: 3, start: kx, length: w)) }
        }
        return try Tensor.stack(slots, dim: 2)
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
        // Output pixel q gets slot j of window q − o_j, o_j = (ky − p, kx − p): read the windows
        // tensor shifted by −o_j after padding it by k − 1 − p on both sides.
        let q = k - 1 - p
        guard q >= 0 else { throw TorchError("foldSlidingWindows: padding \(p) must be < kernel \(k)") }
        let padded = q > 0 ? try pad([q, q, q, q]) : self
        var sum: Tensor?
        for ky in 0..<k {
            for kx in 0..<k {
                let slot = try padded.select(dim: 2, index: ky * k + kx)
                    .narrow(dim: 2, start: k - 1 - ky, length: h).narrow(dim: 3, start: k - 1 - kx, length: w)
                sum = try sum.map { try $0.adding(slot) } ?? slot
            }
        }
        return sum!
    }
}
