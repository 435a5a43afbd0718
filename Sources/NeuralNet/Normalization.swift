import Torch

/// Batch normalisation over (N, C, spatial…) with running statistics, as `nn.BatchNorm{1,2,3}d`.
public class BatchNorm: Module, UnaryLayer {
    public var weight: Tensor? { didSet { invalidateStructure() } }
    public var bias: Tensor? { didSet { invalidateStructure() } }
    @Buffer public var runningMean: Tensor { didSet { invalidateStructure() } }
    @Buffer public var runningVar: Tensor { didSet { invalidateStructure() } }
    @Buffer public var numBatchesTracked: Tensor { didSet { invalidateStructure() } }
    public let momentum: Double, eps: Double
    let spatialDims: Int

    init(spatial: Int, _ channels: Int, eps: Double, momentum: Double, affine: Bool) throws {
        weight = affine ? try Initialization.constant([channels], 1) : nil
        bias = affine ? try Initialization.constant([channels], 0) : nil
        runningMean = try Tensor.zeros([channels])
        runningVar = try Tensor.ones([channels])
        numBatchesTracked = try Tensor.zeros([], dtype: .int64)
        self.eps = eps
        self.momentum = momentum
        spatialDims = spatial
        super.init()
    }

    public func callAsFunction(_ x: Tensor) throws -> Tensor {
        guard x.rank == spatialDims + 2 else {
            throw TorchError("\(type(of: self)) expects (N, C, \(spatialDims) spatial dims), got shape \(x.shape)")
        }
        if training { try withoutGradients { try numBatchesTracked.addInPlace(1) } }
        return try x.batchNorm(runningMean: runningMean, runningVar: runningVar, weight: weight, bias: bias,
                               training: training, momentum: momentum, eps: eps)
    }
}

public final class BatchNorm1d: BatchNorm {
    public init(_ channels: Int, eps: Double = 1e-5, momentum: Double = 0.1, affine: Bool = true) throws {
        try super.init(spatial: 1, channels, eps: eps, momentum: momentum, affine: affine)
    }
}

public final class BatchNorm2d: BatchNorm {
    public init(_ channels: Int, eps: Double = 1e-5, momentum: Double = 0.1, affine: Bool = true) throws {
        try super.init(spatial: 2, channels, eps: eps, momentum: momentum, affine: affine)
    }
}

public final class BatchNorm3d: BatchNorm {
    public init(_ channels: Int, eps: Double = 1e-5, momentum: Double = 0.1, affine: Bool = true) throws {
        try super.init(spatial: 3, channels, eps: eps, momentum: momentum, affine: affine)
    }
}

/// Instance normalisation (per sample and channel), as `nn.InstanceNorm{2,3}d`; nnU-Net uses
/// it with `affine: true`. PyTorch's default is `affine: false`, no running stats.
public class InstanceNorm: Module, UnaryLayer {
    public var weight: Tensor? { didSet { invalidateStructure() } }
    public var bias: Tensor? { didSet { invalidateStructure() } }
    public let eps: Double
    let spatialDims: Int

    init(spatial: Int, _ channels: Int, eps: Double, affine: Bool) throws {
        weight = affine ? try Initialization.constant([channels], 1) : nil
        bias = affine ? try Initialization.constant([channels], 0) : nil
        self.eps = eps
        spatialDims = spatial
        super.init()
    }

    public func callAsFunction(_ x: Tensor) throws -> Tensor {
        guard x.rank == spatialDims + 2 else {
            throw TorchError("\(type(of: self)) expects (N, C, \(spatialDims) spatial dims), got shape \(x.shape)")
        }
        return try x.instanceNorm(weight: weight, bias: bias, eps: eps)
    }
}

public final class InstanceNorm2d: InstanceNorm {
    public init(_ channels: Int, eps: Double = 1e-5, affine: Bool = false) throws {
        try super.init(spatial: 2, channels, eps: eps, affine: affine)
    }
}

public final class InstanceNorm3d: InstanceNorm {
    public init(_ channels: Int, eps: Double = 1e-5, affine: Bool = false) throws {
        try super.init(spatial: 3, channels, eps: eps, affine: affine)
    }
}

/// Group normalisation over (N, C, …), as `nn.GroupNorm` (works for 2D and 3D alike).
public final class GroupNorm: Module, UnaryLayer {
    public var weight: Tensor? { didSet { invalidateStructure() } }
    public var bias: Tensor? { didSet { invalidateStructure() } }
    public let groups: Int, eps: Double

    public init(groups: Int, channels: Int, eps: Double = 1e-5, affine: Bool = true) throws {
        guard groups > 0, channels % groups == 0 else {
            throw TorchError("GroupNorm: channels (\(channels)) must be divisible by groups (\(groups))")
        }
        weight = affine ? try Initialization.constant([channels], 1) : nil
        bias = affine ? try Initialization.constant([channels], 0) : nil
        self.groups = groups
        self.eps = eps
        super.init()
    }

    public func callAsFunction(_ x: Tensor) throws -> Tensor {
        try x.groupNorm(groups: groups, weight: weight, bias: bias, eps: eps)
    }
}

/// Layer normalisation over the trailing `normalizedShape`, as `nn.LayerNorm`.
public final class LayerNorm: Module, UnaryLayer {
    public var weight: Tensor? { didSet { invalidateStructure() } }
    public var bias: Tensor? { didSet { invalidateStructure() } }
    public let normalizedShape: [Int], eps: Double

    public init(_ normalizedShape: [Int], eps: Double = 1e-5, elementwiseAffine: Bool = true) throws {
        weight = elementwiseAffine ? try Initialization.constant(normalizedShape, 1) : nil
        bias = elementwiseAffine ? try Initialization.constant(normalizedShape, 0) : nil
        self.normalizedShape = normalizedShape
        self.eps = eps
        super.init()
    }

    public func callAsFunction(_ x: Tensor) throws -> Tensor {
        try x.layerNorm(normalizedShape: normalizedShape, weight: weight, bias: bias, eps: eps)
    }
}
