import Torch

/// Batch normalisation whose training statistics are those of the global batch — every rank's
/// samples — as `nn.SyncBatchNorm` (same parameters, buffers and state-dict keys as BatchNorm).
/// The data-parallel trainer hands it the job's `group`; without one (a single process), or in
/// eval mode, it is plain batch norm. Per channel, each rank contributes Σ(x − c) and Σ(x − c)²
/// and its count, summed over the ranks with autograd (so the gradient crosses ranks exactly as
/// in one process); the shift c is the running mean, the same on every rank, to keep the
/// variance's cancellation small.
public final class SyncBatchNorm: BatchNorm {
    public var group: Distributed?

    public override init(spatial: Int, _ channels: Int, eps: Double = 1e-5, momentum: Double = 0.1, affine: Bool = true) throws {
        try super.init(spatial: spatial, channels, eps: eps, momentum: momentum, affine: affine)
    }

    public override func callAsFunction(_ x: Tensor) throws -> Tensor {
        guard training, let g = group, g.worldSize > 1 else { return try super.callAsFunction(x) }
        guard x.rank == spatialDims + 2 else {
            throw TorchError("SyncBatchNorm expects (N, C, \(spatialDims) spatial dims), got shape \(x.shape)")
        }
        let channels = x.shape[1]
        let dims = [0] + Array(2..<x.rank)
        let view = [1, channels] + Array(repeating: 1, count: spatialDims)
        let shift = try runningMean.detached().to(x.device, dtype: x.dtype).reshape(view)
        let centred = try x.subtracting(shift)
        let count = try Tensor([Double(x.count / channels)], shape: [1]).to(x.device, dtype: x.dtype)
        let local = try Tensor.cat([try centred.sum(dims: dims), try centred.square().sum(dims: dims), count])
        let global = try g.differentiableSum(local)
        let n = try global.narrow(dim: 0, start: 2 * channels, length: 1)
        let m1 = try global.narrow(dim: 0, start: 0, length: channels).dividing(n)
        let variance = try global.narrow(dim: 0, start: channels, length: channels).dividing(n).subtracting(try m1.square())
        let mean = try m1.adding(try shift.reshape([channels]))
        var y = try x.subtracting(try mean.reshape(view)).multiplying(try variance.adding(try Tensor(scalar: eps).to(x.device, dtype: x.dtype)).rsqrt().reshape(view))
        if let weight { y = try y.multiplying(try weight.reshape(view)) }
        if let bias { y = try y.adding(try bias.reshape(view)) }
        try withoutGradients {
            try numBatchesTracked.addInPlace(1)
            let total = try n.detached().item()
            let unbiased = try variance.detached().multiplying(try Tensor(scalar: total / Swift.max(total - 1, 1)).to(x.device, dtype: x.dtype))
            try runningMean.mulInPlace(1 - momentum)
            try runningMean.addInPlace(try mean.detached().to(runningMean.device, dtype: runningMean.dtype), alpha: momentum)
            try runningVar.mulInPlace(1 - momentum)
            try runningVar.addInPlace(try unbiased.to(runningVar.device, dtype: runningVar.dtype), alpha: momentum)
        }
        return y
    }
}
