import NeuralNet
import Torch

/// What a target field an objective needs is called, so a configuration that asks for one the
/// dataset lacks fails before training starts.
public enum TargetField: String, Sendable, Hashable, CaseIterable {
    case labels, landmarks, heatmaps
    /// The label maps before geometric augmentation (ConDSeg's published background target).
    case unaugmentedLabels
}

/// Everything one batch can be scored against, and per sample what is actually annotated.
///
/// Label maps are (B, 1, spatial…) int64 (zeros where a sample has none); `annotatedLabels[b]`
/// lists the foreground classes sample b's map annotates (empty: no label map). Landmarks are
/// (B, K, rank) voxel coordinates with a (B, K) mask; heatmaps (B, K, spatial…) are rendered
/// from them when an objective needs them. Objectives reduce only over what is annotated.
public struct Targets {
    /// Class indices (B, 1, spatial…), int64.
    public var labels: Tensor?
    /// `labels` before geometric augmentation (cropped alike), when an objective needs them.
    public var unaugmentedLabels: Tensor?
    /// Per sample, the annotated foreground classes (empty: the sample has no label map).
    public var annotatedLabels: [Set<Int>]
    /// Every foreground class of the dataset (the segmentation head has `classes` channels).
    public var foregroundClasses: Set<Int>
    /// (B, K, rank) float32 voxel coordinates in numpy axis order; zero where not annotated.
    public var landmarks: Tensor?
    /// (B, K) bool: whether sample b carries landmark k.
    public var landmarkMask: Tensor?
    public var landmarkNames: [String]
    /// Landmark name → related segmentation classes (dataset.json `relations`, for BaBLoss).
    public var landmarkRelations: [String: [Int]] = [:]
    /// (B, K, spatial…) float32 Gaussian heatmaps, zero for landmarks a sample lacks.
    public var heatmaps: Tensor?
    public var caseIDs: [String]?
    public var spacing: [Double]?
    public var cache: RegionMapCache?
    public var trainingProgress: Double?

    public init(labels: Tensor?, annotatedLabels: [Set<Int>], foregroundClasses: Set<Int>, landmarks: Tensor? = nil,
                landmarkMask: Tensor? = nil, landmarkNames: [String] = [], heatmaps: Tensor? = nil, caseIDs: [String]? = nil,
                spacing: [Double]? = nil, cache: RegionMapCache? = nil, trainingProgress: Double? = nil) {
        self.labels = labels
        self.annotatedLabels = annotatedLabels
        self.foregroundClasses = foregroundClasses
        self.landmarks = landmarks
        self.landmarkMask = landmarkMask
        self.landmarkNames = landmarkNames
        self.heatmaps = heatmaps
        self.caseIDs = caseIDs
        self.spacing = spacing
        self.cache = cache
        self.trainingProgress = trainingProgress
    }

    /// Fully annotated label maps (e.g. `contour loss`, or a Swift caller with one label tensor).
    public init(labels: Tensor, classes: Int, caseIDs: [String]? = nil, spacing: [Double]? = nil) throws {
        let fg = Set(1..<Swift.max(classes, 2))
        self.init(labels: labels, annotatedLabels: Array(repeating: fg, count: labels.shape[0]), foregroundClasses: fg,
                  caseIDs: caseIDs, spacing: spacing)
    }

    public var batchSize: Int { annotatedLabels.count }

    /// True when every sample annotates every foreground class.
    public var fullyLabelled: Bool { annotatedLabels.allSatisfy { $0 == foregroundClasses } }

    /// The fields present, for checking a configuration against the data.
    public static func fields(hasLabels: Bool, hasLandmarks: Bool) -> Set<TargetField> {
        var f: Set<TargetField> = []
        if hasLabels { f.formUnion([.labels, .unaugmentedLabels]) }
        if hasLandmarks { f.formUnion([.landmarks, .heatmaps]) }
        return f
    }

    /// The label maps, or an error naming the objective that needed them.
    public func requireLabels(by user: String) throws -> Tensor {
        guard let labels else { throw ObjectiveError("\(user) needs label maps, but this batch has none") }
        return labels
    }

    public func requireHeatmaps(by user: String) throws -> (heatmaps: Tensor, mask: Tensor) {
        guard let heatmaps, let landmarkMask else {
            throw ObjectiveError("\(user) needs landmark heatmaps, but the data has no landmarks (dataset.json \"landmarks\", landmarksTr/)")
        }
        return (heatmaps, landmarkMask)
    }
}

/// How Gaussian landmark heatmaps are rendered: H = exp(−‖x − μ‖² / 2σ²) per landmark, then
/// normalised and scaled. `perLandmark` (the default) divides each (sample, landmark) map by its
/// own maximum; `batch` is BaBLoss's official whole-batch min–max; `none` keeps the raw Gaussian.
public struct HeatmapSettings: Sendable, Equatable {
    public enum Normalization: String, Sendable, CaseIterable { case none, perLandmark = "landmark", batch }
    /// In voxels.
    public var sigma: Double = 2
    public var scale: Double = 1
    public var normalization: Normalization = .perLandmark

    public init(sigma: Double = 2, scale: Double = 1, normalization: Normalization = .perLandmark) {
        self.sigma = sigma
        self.scale = scale
        self.normalization = normalization
    }

    /// Heatmaps (B, K, spatial…) float32 for coordinates (B, K, rank) in numpy axis order;
    /// channels with a false mask are zero.
    public func render(coordinates: Tensor, mask: Tensor, spatial: [Int], device: Device = .cpu) throws -> Tensor {
        let b = coordinates.shape[0], k = coordinates.shape[1], rank = spatial.count
        guard coordinates.shape == [b, k, rank], mask.shape == [b, k] else {
            throw ObjectiveError("heatmaps: coordinates \(coordinates.shape) and mask \(mask.shape) do not fit \(rank)-D images")
        }
        guard sigma > 0, sigma.isFinite else { throw ObjectiveError("heatmap sigma must be > 0, got \(sigma)") }
        let mu = try coordinates.to(device, dtype: .float32)
        var d2: Tensor?
        for a in 0..<rank {
            // Axis a's coordinate grid, broadcast over the other axes.
            var shape = [Int](repeating: 1, count: rank)
            shape[a] = spatial[a]
            let axis = try Tensor.arange(0, Double(spatial[a]), dtype: .float32, device: device).reshape([1, 1] + shape)
            let m = try mu.select(dim: 2, index: a).reshape([b, k] + [Int](repeating: 1, count: rank))
            let diff = try axis.subtracting(m)
            let sq = try diff.multiplying(diff)
            d2 = try d2.map { try $0.adding(sq) } ?? sq
        }
        var h = try (d2! * (-1 / (2 * sigma * sigma))).exp()
        let flatDims = Array(2..<(2 + rank))
        switch normalization {
        case .none: break
        case .perLandmark:
            h = try h.dividing(try h.max(dims: flatDims, keepDim: true).clamp(min: 1e-12))
        case .batch:
            let lo = try h.min(), hi = try h.max()
            h = try h.subtracting(lo).dividing(try hi.subtracting(lo).clamp(min: 1e-12))
        }
        let m = try mask.to(device, dtype: .float32).reshape([b, k] + [Int](repeating: 1, count: rank))
        return try h.multiplying(m) * scale
    }
}
