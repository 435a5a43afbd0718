import Geometry
import Torch

/// TopoLoss (Hu et al., NeurIPS 2019) in its TopoMortar form (METHODS §6):
///
///     L = CE + lambda · mean((p·W − R)²)      (the second term only once training is far enough)
///
/// p is the foreground probability (softmax channels 1…C−1, or the sigmoid of one channel),
/// one map per foreground class. Each 2D map is cut into `patchSize`² tiles (the last row and
/// column of tiles may be smaller). In each tile, with f = 1 − p:
/// - the 0-dimensional persistence of the sublevel filtration of f (GUDHI's cubical complex on
///   pixels, i.e. 8-connected; `CubicalPersistence`) gives bars (birth, death) with their
///   birth and death pixels: each bar is a blob of high p;
/// - β0 = the number of 8-connected components of the GT in the tile;
/// - bars are sorted by persistence, longest first. The essential bar (death = ∞) is always
///   the longest and takes one GT component; the next max(β0 − 1, 0) finite bars are matched:
///   their birth pixel gets target f = 0 (p = 1) and death pixel f = 1 (p = 0), which makes the
///   blobs distinct and certain. Each other finite bar with persistence > `threshold` is pushed
///   onto the diagonal: both its pixels get target f = (birth + death)/2, so the blob merges away;
/// - W = 1 on those pixels (0 elsewhere), R = the targets as values of p (0 where W = 0).
/// W and R are computed on the CPU from detached probabilities and are constants; the gradient
/// reaches the logits through p only. The mean runs over all B·(C−1)·H·W elements.
///
/// Decisions where METHODS §6 and the TopoMortar code leave room:
/// - The essential bar is never pushed: it has no finite death to move, and TopoMortar only ever
///   reads GUDHI's finite pairs (`cofaces_of_persistence_pairs()[0]`), matching β0 − 1 of them.
///   So a tile with empty GT gets all its finite bars above threshold removed, none matched.
/// - A pixel that is critical for several bars (one pixel can end several components) keeps the
///   first target written: matched bars before unmatched ones, each group longest first.
/// - Persistence ties are broken by the diagram's order (bars in order of death).
/// - Pixels with the CE's `ignoreIndex` label count as outside every class in the GT.
/// - Not reproduced from the TopoMortar code (quirks): its softmax applied twice, its GT taken
///   from channel 0 (background), tiles skipped when p or GT is uniform, the "perfect" bars
///   (persistence > 0.99) left out of the matched set, the unmatched targets swapped (birth to
///   the death value and back) instead of the diagonal midpoint, and the missing tile offset
///   for unmatched death pixels. 3D inputs are an error: `CubicalPersistence` is 2D.
///
/// Options: `lambda` (100, ≥ 0), `patchSize` (50, ≥ 2), `threshold` (0.03, ≥ 0),
/// `startFraction` (0.7, in [0, 1]: the term is on when `LossTarget.trainingProgress ≥
/// startFraction`, or always when the progress is unknown), and the `ce` options.
public struct TopoLoss: Objective {
    public let name: String
    public var crossEntropy: CrossEntropyLoss
    public var lambda: Double
    public var patchSize: Int
    public var threshold: Double
    public var startFraction: Double

    public init(options o: ObjectiveOptions) throws {
        name = o.objective
        crossEntropy = try CrossEntropyLoss(meanReducedFor: o)
        lambda = try o.double("lambda", default: 100, requirement: "a number ≥ 0", valid: { $0 >= 0 })
        patchSize = try o.int("patchSize", default: 50, requirement: "an integer ≥ 2", valid: { $0 >= 2 })
        threshold = try o.double("threshold", default: 0.03, requirement: "a number ≥ 0", valid: { $0 >= 0 })
        startFraction = try o.double("startFraction", default: 0.7, requirement: "a number in [0, 1]",
                                     valid: { (0...1).contains($0) })
    }

    public func callAsFunction(logits: Tensor, target: LossTarget) throws -> Tensor {
        try checkShape(logits)
        let ce = try crossEntropy(logits: logits, target: target)
        guard isActive(target), lambda > 0 else { return ce }
        return try ce + lambda * topologicalTerm(logits: logits, target: target)
    }

    /// Whether the topological term counts for this target's point in training.
    public func isActive(_ target: LossTarget) -> Bool {
        target.trainingProgress.map { $0 >= startFraction } ?? true
    }

    /// mean((p·W − R)²) alone, without lambda and whatever the training progress.
    public func topologicalTerm(logits: Tensor, target: LossTarget) throws -> Tensor {
        try checkShape(logits)
        let c = logits.shape[1]
        let p = c == 1 ? try logits.sigmoid() : try logits.softmax(dim: 1).droppingFirstChannel()
        let (w, r) = try criticalMaps(foreground: p, logits: logits, target: target)
        let weight = try Tensor(w, shape: p.shape).to(logits.device, dtype: logits.dtype)
        let reference = try Tensor(r, shape: p.shape).to(logits.device, dtype: logits.dtype)
        return try (p * weight - reference).square().mean()
    }

    /// W and R, both shaped like `foreground` (B, C−1 or 1, H, W), flattened row-major.
    func criticalMaps(foreground p: Tensor, logits: Tensor, target: LossTarget) throws -> (weight: [Double], reference: [Double]) {
        let (b, k, h, w) = (p.shape[0], p.shape[1], p.shape[2], p.shape[3])
        let (probabilities, labels) = try withoutGradients {
            (try p.detached().toArray(Double.self), try target.labelMap(for: logits, ignoring: crossEntropy.ignoreIndex).toArray(Int64.self))
        }
        var weight = [Double](repeating: 0, count: probabilities.count)
        var reference = weight
        let plane = h * w
        for i in 0..<b {
            // Channel j of the foreground is class j + 1 (with one sigmoid channel: class 1).
            for j in 0..<k {
                let cls = Int64(j + 1)
                let gt = labels[(i * plane)..<((i + 1) * plane)].map { $0 == cls }
                let offset = (i * k + j) * plane
                try Self.criticalMaps(probabilities: probabilities[offset..<(offset + plane)], groundTruth: gt,
                                      height: h, width: w, patchSize: patchSize, threshold: threshold,
                                      weight: &weight, reference: &reference, offset: offset)
            }
        }
        return (weight, reference)
    }

    private func checkShape(_ logits: Tensor) throws {
        guard logits.rank == 4 else {
            throw ObjectiveError("'\(name)' is 2D only: logits must be (B, C, H, W), got shape \(logits.shape)")
        }
    }

    /// Writes W and R of one H×W probability map (row-major) and its binary GT into
    /// `weight`/`reference` at `offset`, tile by tile.
    static func criticalMaps(probabilities p: ArraySlice<Double>, groundTruth gt: [Bool], height h: Int, width w: Int,
                             patchSize: Int, threshold: Double,
                             weight: inout [Double], reference: inout [Double], offset: Int) throws {
        let base = p.startIndex
        var f = [Double](repeating: 0, count: patchSize * patchSize)
        var mask = [Bool](repeating: false, count: patchSize * patchSize)
        for y0 in stride(from: 0, to: h, by: patchSize) {
            for x0 in stride(from: 0, to: w, by: patchSize) {
                let ph = Swift.min(patchSize, h - y0), pw = Swift.min(patchSize, w - x0)
                for y in 0..<ph {
                    for x in 0..<pw {
                        f[y * pw + x] = 1 - p[base + (y0 + y) * w + x0 + x]
                        mask[y * pw + x] = gt[(y0 + y) * w + x0 + x]
                    }
                }
                let n = ph * pw
                let diagram = try f.withUnsafeBufferPointer {
                    try CubicalPersistence.diagram(UnsafeBufferPointer(rebasing: $0[0..<n]), height: ph, width: pw)
                }
                let components = try ConnectedComponents.count(
                    Grid(shape: [ph, pw], storage: Array(mask[0..<n])), connectivity: .eight)
                // Longest first; ties keep the diagram's order.
                let bars = diagram.bars.enumerated().sorted {
                    $0.element.persistence > $1.element.persistence
                        || ($0.element.persistence == $1.element.persistence && $0.offset < $1.offset)
                }.map(\.element)
                let matched = Swift.min(Swift.max(components - 1, 0), bars.count)

                // A pixel keeps the first target it gets.
                func put(_ local: Int, _ value: Double) {
                    let global = offset + (y0 + local / pw) * w + x0 + local % pw
                    guard weight[global] == 0 else { return }
                    weight[global] = 1
                    reference[global] = value
                }
                for bar in bars[..<matched] {
                    put(bar.birthPixel, 1)  // f → 0
                    put(bar.deathPixel, 0)  // f → 1
                }
                for bar in bars[matched...] where bar.persistence > threshold {
                    let diagonal = 1 - (bar.birth + bar.death) / 2
                    put(bar.birthPixel, diagonal)
                    put(bar.deathPixel, diagonal)
                }
            }
        }
    }
}
