import Foundation
import Geometry
import NeuralNet
import Torch

/// BaBLoss, Boundary-as-Bridge (Gong et al., IEEE TMI 2025; METHODS §5.3–5.4): landmarks should
/// lie on the boundary of the structures the relation table ties them to.
///
/// `value(segmentation:heatmaps:)` is BaB(S, L) of §5.3 for paired samples (sample b of S with
/// sample b of L). The training objective `bab` is §5.4's L_bab = BaB(Ŝ, H) + BaB(onehot(y), L̂):
/// predicted segmentation with the ground-truth heatmaps, and the ground-truth one-hot with the
/// predicted heatmaps. The samples with a label map are paired in batch order with those with
/// landmarks (the official landmark-first half batch pairs sample h + i with sample i; a batch
/// whose samples carry both pairs each sample with itself). Only the full-resolution level is used.
///
/// Options: `form` official (1 − Σ(L/scale)·D̃ / nnz(L)) or cosine (1 − cos(L, D̃), the paper's
/// figure); `maxDistance` n (10); `relations` {landmark name or index: [classes]} (default: the
/// dataset.json `relations`); `heatmapScale` (255, the official heatmaps' peak; set it to
/// `data.heatmap.scale`); `segmentationHead`, `heatmapHead`.
public struct BaBLoss: PairedHeatmapObjective {
    public enum Form: String, Sendable, CaseIterable { case official, cosine }

    public let name: String
    public let form: Form
    public let maxDistance: Int
    public let relations: LandmarkRelations?
    public let heatmapScale: Double
    public let segmentationHead: String
    public let heatmapHead: String

    public init(name: String = "bab", form: Form = .official, maxDistance: Int = 10, relations: LandmarkRelations? = nil,
                heatmapScale: Double = 255, segmentationHead: String = Heads.segmentation, heatmapHead: String = Heads.heatmaps) {
        self.name = name
        self.form = form
        self.maxDistance = maxDistance
        self.relations = relations
        self.heatmapScale = heatmapScale
        self.segmentationHead = segmentationHead
        self.heatmapHead = heatmapHead
    }

    public init(options o: ObjectiveOptions) throws {
        let form = Form(rawValue: try o.string("form", default: "official", allowed: Form.allCases.map(\.rawValue)))!
        let n = try o.int("maxDistance", default: 10, requirement: "an integer in 1…254") { (1...254).contains($0) }
        var relations: LandmarkRelations?
        if o.has("relations") {
            relations = try LandmarkRelations(option: o.values["relations"]!, subject: o.subject("relations"))
        }
        let scale = try o.double("heatmapScale", default: 255, requirement: "a number > 0") { $0 > 0 && $0.isFinite }
        self.init(name: o.objective, form: form, maxDistance: n, relations: relations, heatmapScale: scale,
                  segmentationHead: try o.string("segmentationHead", default: Heads.segmentation),
                  heatmapHead: try o.string("heatmapHead", default: Heads.heatmaps))
    }

    public var heads: [String] { [segmentationHead, heatmapHead] }
    public var needs: Set<TargetField> { [.labels, .heatmaps] }

    public func callAsFunction(logits: Tensor, target: LossTarget) throws -> Tensor {
        throw ObjectiveError("'\(name)' pairs a segmentation with landmark heatmaps; use it in training, or `contour loss bab --segmentation S.npy --heatmaps H.npy`")
    }

    // MARK: - BaB(S, L)

    /// BaB(S, L) with the `relations` option keyed by landmark index (`contour loss bab`).
    public func value(segmentation: Tensor, heatmaps: Tensor) throws -> Tensor {
        guard let relations else {
            throw ObjectiveError("'\(name)' needs relations {landmark index: [classes]}, e.g. --relations '{\"0\": [1, 5]}'")
        }
        guard segmentation.rank >= 3, heatmaps.rank >= 3 else {
            throw ObjectiveError("'\(name)': segmentation \(segmentation.shape) and heatmaps \(heatmaps.shape) must be (B, K, spatial…) and (B, P, spatial…)")
        }
        let table = try relations.resolve(landmarkNames: [], landmarks: heatmaps.shape[1], classes: segmentation.shape[1])
        return try value(segmentation: segmentation, heatmaps: heatmaps, table: table)
    }

    /// BaB(S, L) for paired samples: `segmentation` (B, K, spatial…) raw values (network outputs
    /// or a one-hot map), `heatmaps` (B, P, spatial…) on the `heatmapScale` scale, `table[n]` the
    /// classes of landmark n (P entries). `usable` (B, K) bool marks the (sample, class) maps that
    /// may be used (nil: all); `counted` (B, P) bool the (sample, landmark) pairs that count (nil:
    /// all). Absent maps and uncounted pairs are skipped; the normaliser stays B·P (official).
    public func value(segmentation: Tensor, heatmaps: Tensor, table: [[Int]], usable: Tensor? = nil,
                      counted: Tensor? = nil) throws -> Tensor {
        let s = segmentation, l = heatmaps
        guard s.rank == l.rank, s.rank == 4 || s.rank == 5, s.shape[0] == l.shape[0],
              s.shape.dropFirst(2) == l.shape.dropFirst(2) else {
            throw ObjectiveError("'\(name)': segmentation \(s.shape) and heatmaps \(l.shape) must be (B, K, spatial…) and (B, P, spatial…) with the same B and 2D/3D spatial size")
        }
        let b = s.shape[0], k = s.shape[1], p = l.shape[1]
        guard table.count == p else {
            throw ObjectiveError("'\(name)': the relation table has \(table.count) landmarks, the heatmaps \(p) channels")
        }
        let classes = Array(Set(table.flatMap { $0 })).sorted()
        if let bad = classes.first(where: { $0 < 0 || $0 >= k }) {
            throw ObjectiveError("'\(name)': relations name class \(bad), but the segmentation has \(k) channels")
        }
        guard !classes.isEmpty, b > 0 else { return try s.sum() * 0 + l.sum() * 0 }
        let spatial = Array(s.shape.dropFirst(2))
        let voxels = spatial.reduce(1, *)
        let dtype: DType = s.dtype == .float64 || l.dtype == .float64 ? .float64 : .float32
        let index = try Tensor(classes.map { Int64($0) }, shape: [classes.count]).to(s.device)
        let sel = try s.indexSelect(dim: 1, index: index).to(dtype)       // (B, c, spatial…), with gradient
        let c = classes.count

        // Largest non-zero component per (b, class), on the detached values.
        let (mask, present) = try Self.largestComponents(try sel.detached())
        var presence = try Tensor(present.map { Float($0 ? 1 : 0) }, shape: [b, c]).to(s.device, dtype: dtype)
        if let usable {
            guard usable.shape == [b, k] else { throw ObjectiveError("'\(name)': usable mask \(usable.shape) is not (B, K) = \([b, k])") }
            presence = try presence.multiplying(try usable.to(s.device, dtype: dtype).indexSelect(dim: 1, index: index))
        }
        let m = try mask.to(s.device)
        let flatShape = [b * c, 1] + spatial
        let detached = try sel.detached()
        let region = try detached.gt(0).logicalAnd(m).to(.uint8).reshape(flatShape)
        let boundary = try BoundaryShell.thin(region)
        let d = try ChessboardProximity.map(boundary: boundary, maxDistance: maxDistance, dtype: dtype).reshape([b, c] + spatial)
        // D̃ = D·s inside the largest component, D·(1 − s) outside.
        let gated = try d.multiplying(try Tensor.where(m, sel, 1 - sel))

        let lf = try l.to(dtype).reshape([b, p, voxels]) / heatmapScale
        let df = try gated.reshape([b, c, voxels])
        let similarity = try Self.similarity(heatmaps: lf, distances: df, form: form)
        // Pair weights: relation (P, c) × presence (B, 1, c) × counted (B, P, 1).
        var relation = [Float](repeating: 0, count: p * c)
        for (n, cs) in table.enumerated() { for cls in cs { relation[n * c + classes.firstIndex(of: cls)!] = 1 } }
        var weight = try Tensor(relation, shape: [1, p, c]).to(s.device, dtype: dtype).multiplying(try presence.unsqueeze(dim: 1))
        if let counted {
            guard counted.shape == [b, p] else { throw ObjectiveError("'\(name)': landmark mask \(counted.shape) is not (B, P) = \([b, p])") }
            weight = try weight.multiplying(try counted.to(s.device, dtype: dtype).unsqueeze(dim: 2))
        }
        return try (1 - similarity).multiplying(weight).sum() / Double(b * p)
    }

    /// (B, P, c) similarities of flattened heatmaps (B, P, V), already divided by the scale, and
    /// gated distance maps (B, c, V): Σ L·D̃ / nnz(L) (official; nnz ≥ 1, so an all-zero heatmap
    /// scores 0 instead of the official 0/0) or the cosine Σ L·D̃ / (‖L‖·‖D̃‖).
    public static func similarity(heatmaps lf: Tensor, distances df: Tensor, form: Form) throws -> Tensor {
        let dot = try lf.matmul(try df.transposed(1, 2))
        switch form {
        case .official:
            let nnz = try lf.ne(0).sum(dims: [2], keepDim: true).to(lf.dtype).clamp(min: 1)
            return try dot.dividing(nnz)
        case .cosine:
            let ln = try lf.square().sum(dims: [2], keepDim: true).clamp(min: 1e-24).sqrt()   // (B, P, 1); no 0·∞ gradient
            let dn = try df.square().sum(dims: [2]).clamp(min: 1e-24).sqrt().unsqueeze(dim: 1)  // (B, 1, c)
            return try dot.dividing(try ln.multiplying(dn))
        }
    }

    /// For (B, c, spatial…) values: the mask of the largest connected component of the non-zero
    /// voxels of each (b, channel) (face connectivity, the first in raster order on ties, as
    /// `scipy.ndimage.label` + argmax of the sizes), and whether there was any.
    static func largestComponents(_ values: Tensor) throws -> (mask: Tensor, present: [Bool]) {
        let b = values.shape[0], c = values.shape[1]
        let spatial = Array(values.shape.dropFirst(2))
        let nonzero = try values.ne(0).to(.cpu)
        let connectivity = Connectivity.minimal(rank: spatial.count)
        var masks: [Tensor] = []
        var present: [Bool] = []
        for i in 0..<b {
            for j in 0..<c {
                let grid = try Grid(shape: spatial, storage: try nonzero.select(dim: 0, index: i).select(dim: 0, index: j).toArray(Bool.self))
                let labelling = try ConnectedComponents.label(grid, connectivity: connectivity)
                guard let largest = labelling.largest else {
                    masks.append(try Tensor.zeros(spatial, dtype: .bool))
                    present.append(false)
                    continue
                }
                masks.append(try Tensor(grid: labelling.labels).eq(Double(largest)))
                present.append(true)
            }
        }
        return (try Tensor.stack(masks).reshape([b, c] + spatial), present)
    }

    // MARK: - Training objective (§5.4)

    public func loss(heads: Heads, targets: Targets) throws -> Tensor {
        let seg = try heads.require(segmentationHead, by: "objective '\(name)'")
        let predicted = try heads.require(heatmapHead, by: "objective '\(name)'")
        let (truth, landmarkMask) = try targets.requireHeatmaps(by: "'\(name)'")
        guard truth.shape == predicted.shape else {
            throw ObjectiveError("'\(name)': head '\(heatmapHead)' has shape \(predicted.shape), the target heatmaps \(truth.shape)")
        }
        let k = seg.shape[1], p = predicted.shape[1]
        let table = try resolvedTable(targets: targets, landmarks: p, classes: k)
        let marks = try landmarkMask.to(.cpu, dtype: .bool)
        let hasLandmarks = try marks.any(dims: [1]).toArray(Bool.self)
        let labelled = targets.annotatedLabels.indices.filter { !targets.annotatedLabels[$0].isEmpty }
        let landmarked = hasLandmarks.indices.filter { hasLandmarks[$0] }
        let pairs = min(labelled.count, landmarked.count)
        guard pairs > 0 else { return try seg.sum() * 0 + predicted.sum() * 0 }
        let labels = try targets.requireLabels(by: "objective '\(name)'")
        let segRows = Array(labelled.prefix(pairs)), markRows = Array(landmarked.prefix(pairs))
        func rows(_ r: [Int], on device: Device) throws -> Tensor { try Tensor(r.map { Int64($0) }, shape: [r.count]).to(device) }

        // Predicted segmentation of the labelled samples with the ground-truth heatmaps of their partners.
        let counted = try marks.indexSelect(dim: 0, index: try rows(markRows, on: .cpu))
        let first = try value(segmentation: try seg.indexSelect(dim: 0, index: try rows(segRows, on: seg.device)),
                              heatmaps: try truth.indexSelect(dim: 0, index: try rows(markRows, on: truth.device)),
                              table: table, counted: counted)
        // Ground-truth one-hot of the labelled samples with the predicted heatmaps of their partners;
        // a class a sample does not annotate is absent there (its voxels read 0), never background.
        let y = try labels.indexSelect(dim: 0, index: try rows(segRows, on: labels.device)).to(seg.device).squeeze(dim: 1)
        let oneHot = try y.oneHot(classes: k).permute([0, y.rank] + Array(1..<y.rank)).to(predicted.dtype)
        var usable = [UInt8](repeating: 0, count: pairs * k)
        for (i, r) in segRows.enumerated() {
            let annotated = targets.annotatedLabels[r]
            for cls in 0..<k where annotated.contains(cls) || (cls == 0 && annotated == targets.foregroundClasses) {
                usable[i * k + cls] = 1
            }
        }
        let second = try value(segmentation: oneHot,
                               heatmaps: try predicted.indexSelect(dim: 0, index: try rows(markRows, on: predicted.device)),
                               table: table, usable: try Tensor(usable, shape: [pairs, k]).to(.bool))
        return try first.adding(second)
    }

    /// The relation table per landmark index: the `relations` option, else the dataset's.
    func resolvedTable(targets: Targets, landmarks: Int, classes: Int) throws -> [[Int]] {
        if let relations {
            return try relations.resolve(landmarkNames: targets.landmarkNames, landmarks: landmarks, classes: classes,
                                         source: "objective '\(name)' option relations")
        }
        guard !targets.landmarkRelations.isEmpty else {
            throw ObjectiveError("objective '\(name)' needs a relation table: dataset.json \"relations\": {landmark: [classes]} or the option relations")
        }
        return try LandmarkRelations(targets.landmarkRelations).resolve(landmarkNames: targets.landmarkNames, landmarks: landmarks,
                                                                        classes: classes, source: "dataset.json relations")
    }
}
