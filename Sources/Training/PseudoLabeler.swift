import Geometry
import Imaging
import Objectives
import Torch

/// Pseudo-labels from landmarks (BaBLoss, METHODS §5.5): for each landmark-annotated case and
/// each structure (class) that dataset.json's `relations` ties to at least one of its landmarks,
/// a mask from those landmarks, written as one label map per case (values = class ids).
///
/// - Without a segmenter: the official fallback, the convex hull of the structure's landmarks in
///   voxel-index space (voxel centres in the hull, boundary included — SciPy's Delaunay
///   `find_simplex ≥ 0`). Fewer than d + 1 landmarks, or landmarks on one line/plane, span no
///   volume: that structure is skipped with a warning naming case and structure.
/// - With a segmenter (a TorchScript promptable 2D model, SAM-style, see `PromptableSegmenter`):
///   slice by slice along `axis` over the slices from the lowest to the highest landmark
///   (rounded), every landmark of the structure projected onto each slice as a positive point
///   prompt, optionally with their box padded by `boxMargin`; the slice masks (logit > 0, i.e.
///   σ > 0.5) are stacked and the largest connected component (6-/4-connected) is kept. A 2D
///   image is one call.
/// Where structures overlap, the smaller one is written last, so nested structures stay visible.
public struct PseudoLabeler {
    public enum Axis: Sendable, Equatable {
        /// The axis of the coarsest spacing (the slices have the finest in-plane resolution); ties: the first.
        case auto
        case fixed(Int)
    }

    public var segmenter: PromptableSegmenter?
    public var boxMargin: Double?
    public var axis: Axis
    /// Restrict to these classes (nil: every related class).
    public var classes: Set<Int>?

    public init(segmenter: PromptableSegmenter? = nil, boxMargin: Double? = nil, axis: Axis = .auto, classes: Set<Int>? = nil) {
        self.segmenter = segmenter
        self.boxMargin = boxMargin
        self.axis = axis
        self.classes = classes
    }

    /// One case's result: the label map, voxels per written class, and warnings.
    public struct CaseResult {
        public var labels: Grid<UInt8>
        public var voxels: [Int: Int]
        public var warnings: [String]
    }

    /// class → the names of its landmarks, from dataset.json `relations` (checked against the
    /// dataset's landmarks and labels).
    public static func structures(_ description: DatasetDescription, source: String) throws -> [Int: [String]] {
        guard !description.landmarkRelations.isEmpty else {
            throw TrainingError("\(source): dataset.json has no \"relations\" {landmark: [classes]}; pseudo-labels need to know which landmarks lie on which structure")
        }
        let names = description.landmarkNames
        let classCount = (description.labels.values.max() ?? 0) + 1
        let table: [[Int]]
        do {
            table = try LandmarkRelations(description.landmarkRelations).resolve(
                landmarkNames: names, landmarks: names.count, classes: classCount, source: "\(source) relations")
        } catch let e as ObjectiveError {
            throw TrainingError(e.message)
        }
        let foreground = Set(description.foregroundLabels)
        var out: [Int: [String]] = [:]
        for (n, classes) in table.enumerated() {
            for k in classes {
                guard foreground.contains(k) else {
                    throw TrainingError("\(source) relations: landmark '\(names[n])' relates to class \(k), which is not a foreground label in labels")
                }
                out[k, default: []].append(names[n])
            }
        }
        return out
    }

    /// The pseudo-label map of one case: `landmarks` (name → numpy-order voxel coordinates) and
    /// `structures` (class → landmark names).
    public func label(caseID: String, image: ImageVolume, landmarks: [String: [Double]], structures: [Int: [String]],
                      classNames: [Int: String] = [:]) throws -> CaseResult {
        let shape = image.shape, rank = shape.count
        var masks: [(k: Int, mask: Grid<Bool>, count: Int)] = []
        var warnings: [String] = []
        for k in structures.keys.sorted() where classes?.contains(k) ?? true {
            let points = structures[k]!.compactMap { landmarks[$0] }
            guard !points.isEmpty else { continue }
            let what = "case \(caseID), structure \(k)\(classNames[k].map { " (\($0))" } ?? "")"
            let mask: Grid<Bool>
            if let segmenter {
                mask = try segment(segmenter, image: image, points: points, what: what)
            } else {
                let r = ConvexHull.affineRank(points)
                guard r == rank else {
                    warnings.append("warning: \(what): its \(points.count) landmark(s) span \(r) dimension(s), not \(rank), so their convex hull has no volume; skipped")
                    continue
                }
                mask = try ConvexHull(points: points).rasterize(shape: shape)
            }
            let count = mask.trueCount
            if count == 0 {
                warnings.append("warning: \(what): the mask is empty (landmarks outside the image?); skipped")
                continue
            }
            masks.append((k, mask, count))
        }
        var labels = Grid<UInt8>(shape: shape, spacing: image.channels[0].spacing, repeating: 0)
        // Largest first, so a smaller (nested) structure overwrites it; on equal sizes the higher class id wins.
        for m in masks.sorted(by: { ($0.count, $1.k) > ($1.count, $0.k) }) {
            let value = UInt8(m.k)
            for i in 0..<labels.count where m.mask.storage[i] { labels.storage[i] = value }
        }
        var voxels: [Int: Int] = [:]
        for v in labels.storage where v != 0 { voxels[Int(v), default: 0] += 1 }
        return CaseResult(labels: labels, voxels: voxels, warnings: warnings)
    }

    /// The slicing axis for an image of `spacing` (numpy order).
    public func sliceAxis(spacing: [Double], rank: Int) throws -> Int {
        switch axis {
        case .auto:
            return spacing.indices.max { spacing[$0] < spacing[$1] || (spacing[$0] == spacing[$1] && $0 > $1) } ?? 0
        case .fixed(let a):
            guard (0..<rank).contains(a) else { throw TrainingError("--axis \(a): the images are \(rank)-D (axes 0…\(rank - 1), numpy order)") }
            return a
        }
    }

    func segment(_ segmenter: PromptableSegmenter, image: ImageVolume, points: [[Double]], what: String) throws -> Grid<Bool> {
        let shape = image.shape, rank = shape.count
        let channels = try Tensor.stack(try image.channels.map { try Tensor(grid: $0) }, dim: 0)  // (C, spatial…)
        var mask: Tensor
        if rank == 2 {
            let prompts = points.map { [$0[1], $0[0]] }
            mask = try segmenter.mask(slice: try channels.unsqueeze(dim: 0), points: prompts, boxMargin: boxMargin, what: what)
        } else {
            let a = try sliceAxis(spacing: image.spacing, rank: rank)
            let plane = (0..<3).filter { $0 != a }
            let positions = points.map { Int($0[a].rounded()) }
            let lo = Swift.max(0, positions.min()!), hi = Swift.min(shape[a] - 1, positions.max()!)
            guard lo <= hi else { return Grid(shape: shape, spacing: image.channels[0].spacing, repeating: false) }
            // Every landmark projected onto the slice plane: (x, y) = (column, row).
            let prompts = points.map { [$0[plane[1]], $0[plane[0]]] }
            var slices: [Tensor] = []
            for s in lo...hi {
                let slice = try channels.select(dim: a + 1, index: s).unsqueeze(dim: 0)  // (1, C, H, W)
                slices.append(try segmenter.mask(slice: slice, points: prompts, boxMargin: boxMargin, what: "\(what), slice \(s) along axis \(a)"))
            }
            mask = try Tensor.stack(slices, dim: a)
            // Back to the full extent along `a` (pad lists pairs from the last axis).
            var pad = [Int](repeating: 0, count: 6)
            pad[2 * (2 - a)] = lo
            pad[2 * (2 - a) + 1] = shape[a] - 1 - hi
            mask = try mask.pad(pad)
        }
        let values = try mask.floats()
        let grid = try Grid(shape: shape, spacing: image.channels[0].spacing, storage: values.map { $0 > 0.5 })
        return try Self.largestComponent(grid)
    }

    /// The largest connected component (6-connected in 3D, 4 in 2D; the first on ties).
    static func largestComponent(_ mask: Grid<Bool>) throws -> Grid<Bool> {
        let c = try ConnectedComponents.label(mask, connectivity: .minimal(rank: mask.rank))
        guard c.count > 1, let keep = c.largest else { return mask }
        return c.labels.map { $0 == keep }
    }
}
