import Torch

/// The ground truth an objective compares logits with.
///
/// It carries integer labels (B, 1, spatial…) or a dense target (B, C, spatial…: one-hot, or
/// the binary mask of a single sigmoid channel), plus what geometry-based objectives need to
/// compute their maps: case ids (to cache maps of unaugmented labels), voxel spacing and a
/// `RegionMapCache`.
public struct LossTarget {
    /// Class indices, int64, (B, 1, spatial…).
    public private(set) var labels: Tensor?
    /// Dense float target, (B, C, spatial…).
    public private(set) var dense: Tensor?
    /// One id per batch element; with `cache` set, maps of a case are computed once.
    public var caseIDs: [String]?
    /// Voxel spacing in array-axis order for distance-based maps (default: unit spacing).
    public var spacing: [Double]?
    public var cache: RegionMapCache?
    /// Fraction of training done, in [0, 1], for objectives with a schedule (`topoloss` turns its
    /// topological term on at `startFraction`). nil means "no schedule known": such terms are
    /// always active (e.g. `contour loss` on a single batch).
    public var trainingProgress: Double?

    /// From class indices shaped (B, 1, spatial…) or (B, spatial…).
    public init(labels: Tensor, caseIDs: [String]? = nil, spacing: [Double]? = nil, cache: RegionMapCache? = nil) throws {
        self.labels = try labels.to(.int64)
        self.caseIDs = caseIDs
        self.spacing = spacing
        self.cache = cache
    }

    /// From a dense target (one-hot over C channels, or a binary mask for one sigmoid channel).
    public init(dense: Tensor, caseIDs: [String]? = nil, spacing: [Double]? = nil, cache: RegionMapCache? = nil) {
        self.dense = dense
        self.caseIDs = caseIDs
        self.spacing = spacing
        self.cache = cache
    }

    /// Reads an array the way `contour loss` does: the logits' shape means dense (one-hot or a
    /// binary mask), one channel or no channel dim means class indices.
    public static func interpreting(_ array: Tensor, logitsShape: [Int]) throws -> LossTarget {
        if array.shape == logitsShape && (logitsShape[1] > 1 || array.dtype.isFloatingPoint) {
            return LossTarget(dense: try array.to(.float64))
        }
        return try LossTarget(labels: array.dtype.isFloatingPoint ? try array.round() : array)
    }

    // MARK: Views used by objectives

    /// Class indices as (B, 1, spatial…) int64, checked against `classes` (a single sigmoid
    /// channel has classes {0, 1}). Values outside are rejected: no official implementation here
    /// defines them (METHODS §0); use the `ignoreIndex` option of `ce` where one is wanted.
    public func labelMap(for logits: Tensor, ignoring ignoreIndex: Int? = nil) throws -> Tensor {
        let classes = Swift.max(logits.shape[1], 2)
        if let labels {
            let l = try normalisedLabels(labels, logits: logits)
            let checked = try ignoreIndex.map { try l.maskedSelect(l.ne(Double($0))) } ?? l
            if checked.count > 0 {
                let lo = try checked.min().item(), hi = try checked.max().item()
                guard lo >= 0, hi < Double(classes) else {
                    throw ObjectiveError("labels must lie in 0…\(classes - 1) for \(logits.shape[1]) output channel(s), "
                                         + "found \(Int(lo))…\(Int(hi)) (an ignore label needs the 'ignoreIndex' option of 'ce')")
                }
            }
            return l
        }
        let d = try checkedDense(logits)
        if logits.shape[1] == 1 { return try d.gt(0.5).to(.int64) }
        return try d.argmax(dim: 1, keepDim: true)
    }

    /// The dense target matching the logits' shape, in the logits' dtype and device.
    public func denseTarget(for logits: Tensor) throws -> Tensor {
        if dense != nil { return try checkedDense(logits).to(logits.device, dtype: logits.dtype) }
        let l = try labelMap(for: logits)
        if logits.shape[1] == 1 { return try l.to(logits.device, dtype: logits.dtype) }
        // one_hot puts classes last: (B, 1, S…) → (B, S…, C) → (B, C, S…).
        let oh = try l.squeeze(dim: 1).oneHot(classes: logits.shape[1])
        let r = oh.rank
        return try oh.permute([0, r - 1] + Array(1..<(r - 1))).to(logits.device, dtype: logits.dtype)
    }

    /// True when the target was given as class indices.
    public var hasLabels: Bool { labels != nil }

    private func checkedDense(_ logits: Tensor) throws -> Tensor {
        guard let dense else { throw ObjectiveError("the target has no dense form") }
        guard dense.shape == logits.shape else {
            throw ObjectiveError("a dense (one-hot) target must have the logits' shape \(logits.shape), got \(dense.shape)")
        }
        return dense
    }

    private func normalisedLabels(_ l: Tensor, logits: Tensor) throws -> Tensor {
        let spatial = Array(logits.shape.dropFirst(2))
        if l.rank == logits.rank, l.shape[0] == logits.shape[0], l.shape[1] == 1, Array(l.shape.dropFirst(2)) == spatial {
            return l
        }
        if l.rank == logits.rank - 1, l.shape[0] == logits.shape[0], Array(l.shape.dropFirst(1)) == spatial {
            return try l.unsqueeze(dim: 1)
        }
        throw ObjectiveError("labels of shape \(l.shape) do not fit logits of shape \(logits.shape): "
                             + "expected (B, 1, spatial…) or (B, spatial…) with the logits' batch and spatial size")
    }
}
