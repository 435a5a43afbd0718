import CTorch

/// How a loss is reduced over its elements.
public enum Reduction: Int32, Sendable, CaseIterable {
    case none = 0, mean = 1, sum = 2

    public init(parsing text: String) throws {
        switch text.lowercased() {
        case "none": self = .none
        case "mean": self = .mean
        case "sum": self = .sum
        default: throw TorchError("unknown reduction '\(text)': expected none, mean or sum")
        }
    }

    var ct: ct_reduction {
        switch self {
        case .none: return CT_REDUCTION_NONE
        case .mean: return CT_REDUCTION_MEAN
        case .sum: return CT_REDUCTION_SUM
        }
    }
}

public enum InterpolationMode: Int32, Sendable {
    case nearest = 0
    /// Linear, bilinear or trilinear by the input's rank.
    case linear = 1
    case nearestExact = 2

    var ct: ct_interpolation {
        switch self {
        case .nearest: return CT_INTERPOLATE_NEAREST
        case .linear: return CT_INTERPOLATE_LINEAR
        case .nearestExact: return CT_INTERPOLATE_NEAREST_EXACT
        }
    }
}

/// Functional neural-network operations on (N, C, spatial…) tensors, PyTorch semantics.
extension Tensor {
    public func matmul(_ other: Tensor) throws -> Tensor { try map(other) { ct_matmul($0, $1, $2) } }

    /// x · wᵀ + b
    public func linear(weight: Tensor, bias: Tensor?) throws -> Tensor {
        try withExtendedLifetime((handle, weight.handle, bias?.handle)) {
            try Tensor.make { ct_linear(handle.raw, weight.handle.raw, bias?.handle.raw, $0) }
        }
    }

    private func spatialRank(_ what: String, weight: Tensor) throws -> Int {
        let s = weight.rank - 2
        guard (1...3).contains(s) else { throw TorchError("\(what): weight must be 3-D, 4-D or 5-D, got shape \(weight.shape)") }
        return s
    }

    private static func expand(_ v: [Int], _ n: Int, _ name: String) throws -> [Int64] {
        if v.count == 1 { return Array(repeating: Int64(v[0]), count: n) }
        guard v.count == n else { throw TorchError("\(name) needs 1 or \(n) values, got \(v)") }
        return v.map(Int64.init)
    }

    /// Convolution over 1, 2 or 3 spatial dims (from the weight's rank). Single values broadcast.
    public func conv(weight: Tensor, bias: Tensor? = nil, stride: [Int] = [1], padding: [Int] = [0],
                     dilation: [Int] = [1], groups: Int = 1) throws -> Tensor {
        let s = try spatialRank("conv", weight: weight)
        let st = try Self.expand(stride, s, "stride"), pd = try Self.expand(padding, s, "padding")
        let dl = try Self.expand(dilation, s, "dilation")
        return try withExtendedLifetime((handle, weight.handle, bias?.handle)) {
            try Tensor.make {
                ct_convolution(handle.raw, weight.handle.raw, bias?.handle.raw, st, pd, dl, 0, nil, Int64(groups), Int32(s), $0)
            }
        }
    }

    /// Transposed convolution; weight is (C_in, C_out/groups, k…) as in PyTorch.
    public func convTransposed(weight: Tensor, bias: Tensor? = nil, stride: [Int] = [1], padding: [Int] = [0],
                               outputPadding: [Int] = [0], dilation: [Int] = [1], groups: Int = 1) throws -> Tensor {
        let s = try spatialRank("convTransposed", weight: weight)
        let st = try Self.expand(stride, s, "stride"), pd = try Self.expand(padding, s, "padding")
        let dl = try Self.expand(dilation, s, "dilation"), op = try Self.expand(outputPadding, s, "outputPadding")
        return try withExtendedLifetime((handle, weight.handle, bias?.handle)) {
            try Tensor.make {
                ct_convolution(handle.raw, weight.handle.raw, bias?.handle.raw, st, pd, dl, 1, op, Int64(groups), Int32(s), $0)
            }
        }
    }

    private var spatialDims: Int { rank - 2 }

    /// Max pooling over the spatial dims; `stride` defaults to the kernel.
    public func maxPool(kernel: [Int], stride: [Int]? = nil, padding: [Int] = [0], dilation: [Int] = [1],
                        ceilMode: Bool = false) throws -> Tensor {
        try pool(CT_POOL_MAX, kernel, stride, padding, dilation, ceilMode, true)
    }

    /// Average pooling; `countIncludePad` as in PyTorch (default true).
    public func avgPool(kernel: [Int], stride: [Int]? = nil, padding: [Int] = [0], ceilMode: Bool = false,
                        countIncludePad: Bool = true) throws -> Tensor {
        try pool(CT_POOL_AVG, kernel, stride, padding, [1], ceilMode, countIncludePad)
    }

    private func pool(_ kind: ct_pool_kind, _ kernel: [Int], _ stride: [Int]?, _ padding: [Int], _ dilation: [Int],
                      _ ceil: Bool, _ include: Bool) throws -> Tensor {
        let s = spatialDims
        guard (1...3).contains(s) else { throw TorchError("pooling needs an (N, C, spatial…) input with 1–3 spatial dims, got shape \(shape)") }
        let k = try Self.expand(kernel, s, "kernel"), st = try Self.expand(stride ?? kernel, s, "stride")
        let p = try Self.expand(padding, s, "padding"), d = try Self.expand(dilation, s, "dilation")
        return try map { ct_pool(kind, $0, Int32(s), k, st, p, d, ceil ? 1 : 0, include ? 1 : 0, $1) }
    }

    public func adaptiveAvgPool(outputSize: [Int]) throws -> Tensor { try adaptive(CT_POOL_AVG, outputSize) }
    public func adaptiveMaxPool(outputSize: [Int]) throws -> Tensor { try adaptive(CT_POOL_MAX, outputSize) }

    private func adaptive(_ kind: ct_pool_kind, _ size: [Int]) throws -> Tensor {
        let s = spatialDims
        guard (1...3).contains(s) else { throw TorchError("adaptive pooling needs an (N, C, spatial…) input, got shape \(shape)") }
        let o = try Self.expand(size, s, "outputSize")
        return try map { ct_adaptive_pool(kind, $0, Int32(s), o, $1) }
    }

    /// Resizes the spatial dims to `size`.
    public func interpolate(size: [Int], mode: InterpolationMode = .nearest, alignCorners: Bool = false) throws -> Tensor {
        let s = spatialDims
        guard (1...3).contains(s) else { throw TorchError("interpolate needs an (N, C, spatial…) input, got shape \(shape)") }
        let o = try Self.expand(size, s, "size")
        return try map { ct_interpolate($0, mode.ct, o, nil, Int32(s), alignCorners ? 1 : 0, $1) }
    }

    /// Resizes the spatial dims by `scale` factors (output size = floor(size × scale)).
    public func interpolate(scale: [Double], mode: InterpolationMode = .nearest, alignCorners: Bool = false) throws -> Tensor {
        let s = spatialDims
        guard (1...3).contains(s) else { throw TorchError("interpolate needs an (N, C, spatial…) input, got shape \(shape)") }
        let f = scale.count == 1 ? Array(repeating: scale[0], count: s) : scale
        guard f.count == s else { throw TorchError("scale needs 1 or \(s) values, got \(scale)") }
        return try map { ct_interpolate($0, mode.ct, nil, f, Int32(s), alignCorners ? 1 : 0, $1) }
    }

    public enum PadMode: String, Sendable {
        case constant, reflect, replicate, circular

        var ct: ct_pad_mode {
            switch self {
            case .constant: return CT_PAD_CONSTANT
            case .reflect: return CT_PAD_REFLECT
            case .replicate: return CT_PAD_REPLICATE
            case .circular: return CT_PAD_CIRCULAR
            }
        }
    }

    /// Pads the last dims: `pad` = [last_lo, last_hi, prev_lo, prev_hi, …] as in `torch.nn.functional.pad`.
    public func pad(_ pad: [Int], mode: PadMode = .constant, value: Double = 0) throws -> Tensor {
        let p = pad.map(Int64.init)
        return try map { ct_pad($0, p, Int32(p.count), mode.ct, value, $1) }
    }

    public func softmax(dim: Int) throws -> Tensor { try map { ct_softmax($0, Int64(dim), 0, $1) } }
    public func logSoftmax(dim: Int) throws -> Tensor { try map { ct_softmax($0, Int64(dim), 1, $1) } }

    /// Zeroes elements with probability `p` in training (scaling the rest by 1/(1−p)).
    public func dropout(p: Double, training: Bool) throws -> Tensor {
        guard (0...1).contains(p) else { throw TorchError("dropout probability must be in [0, 1], got \(p)") }
        return try map { ct_dropout($0, p, training ? 1 : 0, $1) }
    }

    public func batchNorm(runningMean: Tensor?, runningVar: Tensor?, weight: Tensor?, bias: Tensor?,
                          training: Bool, momentum: Double = 0.1, eps: Double = 1e-5) throws -> Tensor {
        try withExtendedLifetime((handle, runningMean?.handle, runningVar?.handle, weight?.handle, bias?.handle)) {
            try Tensor.make {
                ct_batch_norm(handle.raw, weight?.handle.raw, bias?.handle.raw, runningMean?.handle.raw,
                              runningVar?.handle.raw, training ? 1 : 0, momentum, eps, $0)
            }
        }
    }

    public func instanceNorm(weight: Tensor?, bias: Tensor?, runningMean: Tensor? = nil, runningVar: Tensor? = nil,
                             useInputStats: Bool = true, momentum: Double = 0.1, eps: Double = 1e-5) throws -> Tensor {
        try withExtendedLifetime((handle, runningMean?.handle, runningVar?.handle, weight?.handle, bias?.handle)) {
            try Tensor.make {
                ct_instance_norm(handle.raw, weight?.handle.raw, bias?.handle.raw, runningMean?.handle.raw,
                                 runningVar?.handle.raw, useInputStats ? 1 : 0, momentum, eps, $0)
            }
        }
    }

    public func groupNorm(groups: Int, weight: Tensor?, bias: Tensor?, eps: Double = 1e-5) throws -> Tensor {
        try withExtendedLifetime((handle, weight?.handle, bias?.handle)) {
            try Tensor.make { ct_group_norm(handle.raw, Int64(groups), weight?.handle.raw, bias?.handle.raw, eps, $0) }
        }
    }

    public func layerNorm(normalizedShape: [Int], weight: Tensor?, bias: Tensor?, eps: Double = 1e-5) throws -> Tensor {
        let s = normalizedShape.map(Int64.init)
        return try withExtendedLifetime((handle, weight?.handle, bias?.handle)) {
            try Tensor.make { ct_layer_norm(handle.raw, s, Int32(s.count), weight?.handle.raw, bias?.handle.raw, eps, $0) }
        }
    }

    /// Softmax cross-entropy of logits (N, C, …) against int64 class indices (N, …) or class
    /// probabilities (N, C, …), as `torch.nn.functional.cross_entropy`.
    public func crossEntropy(target: Tensor, weight: Tensor? = nil, reduction: Reduction = .mean,
                             ignoreIndex: Int? = nil, labelSmoothing: Double = 0) throws -> Tensor {
        try withExtendedLifetime((handle, target.handle, weight?.handle)) {
            try Tensor.make {
                ct_cross_entropy(handle.raw, target.handle.raw, weight?.handle.raw, reduction.ct,
                                 Int64(ignoreIndex ?? Int(Int64.min)), labelSmoothing, $0)
            }
        }
    }

    /// Binary cross-entropy on logits, as `binary_cross_entropy_with_logits`.
    public func binaryCrossEntropyWithLogits(target: Tensor, weight: Tensor? = nil, posWeight: Tensor? = nil,
                                             reduction: Reduction = .mean) throws -> Tensor {
        try withExtendedLifetime((handle, target.handle, weight?.handle, posWeight?.handle)) {
            try Tensor.make {
                ct_bce_with_logits(handle.raw, target.handle.raw, weight?.handle.raw, posWeight?.handle.raw, reduction.ct, $0)
            }
        }
    }
}
