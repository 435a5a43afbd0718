import Foundation
import Geometry
import Torch

/// A per-class map computed from the labels on the CPU (no gradient): RRW, Boundary, or
/// Skeleton Recall's tube. `tensor(for:logits:)` builds (B, C, spatial…) in the logits' dtype
/// and device, case by case, reusing cached cases.
public enum RegionMap: Hashable, Sendable {
    case rrw(RRWMap.FullClass)
    case boundary(BoundaryMap.Variant)
    case skeletonTube

    var key: String {
        switch self {
        case .rrw(let f): return "rrw-\(f.rawValue)"
        case .boundary(let v): return "boundary-\(v.rawValue)"
        case .skeletonTube: return "skeleton-tube"
        }
    }

    /// Maps for `classes` classes (default: the logits' channel count), 2D or 3D.
    public func tensor(for target: LossTarget, logits: Tensor, classes: Int? = nil,
                       spacing: [Double]? = nil) throws -> Tensor {
        let c = classes ?? logits.shape[1]
        let labels = try target.labelMap(for: logits).to(.cpu)
        let spatial = Array(labels.shape.dropFirst(2))
        guard spatial.count == 2 || spatial.count == 3 else {
            throw ObjectiveError("label maps are computed for 2D or 3D labels, got spatial shape \(spatial)")
        }
        if let spacing, spacing.count != spatial.count || !spacing.allSatisfy({ $0 > 0 && $0.isFinite }) {
            throw ObjectiveError("option 'spacing' must hold \(spatial.count) positive numbers, got \(spacing)")
        }
        let b = labels.shape[0], n = spatial.reduce(1, *)
        if let ids = target.caseIDs, ids.count != b {
            throw ObjectiveError("the target has \(ids.count) case ids for a batch of \(b)")
        }
        let values = try labels.toArray(Int64.self)
        var perCase: [Tensor] = []
        for i in 0..<b {
            let cacheKey = target.caseIDs.map { "\($0[i])|\(key)|\(c)|\(spatial)|\(spacing ?? [])" }
            if let cacheKey, let hit = target.cache?.value(cacheKey) {
                perCase.append(hit)
                continue
            }
            let grid = try Grid(shape: spatial, storage: values[(i * n)..<((i + 1) * n)].map { Int32($0) })
            let map = try Tensor(compute(grid, classes: c, spacing: spacing), shape: [c] + spatial)
            if let cacheKey { target.cache?.insert(map, for: cacheKey) }
            perCase.append(map)
        }
        return try Tensor.stack(perCase, dim: 0).to(logits.device, dtype: logits.dtype)
    }

    func compute(_ labels: Grid<Int32>, classes: Int, spacing: [Double]?) throws -> [Double] {
        switch self {
        case .rrw(let f):
            if f == .parity { RegionMap.warnParityOnce(labels, classes: classes) }
            return try RRWMap.compute(labels, classes: classes, spacing: spacing, fullClass: f)
        case .boundary(let v): return try BoundaryMap.compute(labels, classes: classes, spacing: spacing, variant: v)
        case .skeletonTube: return try SkeletonTube.compute(labels, classes: classes)
        }
    }

    nonisolated(unsafe) private static var warned = false
    private static let warnLock = NSLock()

    /// METHODS §0 asks for a warning when parity mode reproduces SciPy's virtual-index artefact.
    static func warnParityOnce(_ labels: Grid<Int32>, classes: Int) {
        guard let first = labels.storage.first, labels.storage.allSatisfy({ $0 == first }) else { return }
        warnLock.lock(); defer { warnLock.unlock() }
        guard !warned else { return }
        warned = true
        FileHandle.standardError.write(Data(("warning: rrw parity: class \(first) fills a whole case; its map uses SciPy's "
            + "virtual-index distances as the official code does (use parity: false for the clean map)\n").utf8))
    }
}
