import Geometry

/// Signed distance maps for the Boundary loss (Kervadec et al.; METHODS §6, §2.4), one case.
public enum BoundaryMap {
    public enum Variant: String, Sendable {
        /// Kervadec: φ = edt(¬g)·¬g − (edt(g) − 1)·g, 0 on the inner boundary.
        case kervadec
        /// The region-wise repository's map: no −1 shift (inside boundary pixels are −1).
        /// Absent classes are 0 (the official code reuses a stale map there, a bug not reproduced).
        case regionWise
    }

    /// The C maps of one label grid, channel-major (C × N values); absent classes are 0.
    public static func compute(_ labels: Grid<Int32>, classes: Int, spacing: [Double]? = nil,
                               variant: Variant = .kervadec) throws -> [Double] {
        let n = labels.count
        var out = [Double](repeating: 0, count: classes * n)
        let sp = spacing ?? Array(repeating: 1, count: labels.rank)
        for c in 0..<classes {
            let mask = labels.map { $0 == Int32(c) }
            let phi = try DistanceTransform.signed(mask, spacing: sp, insideOffset: variant == .kervadec ? 1 : 0)
            out.replaceSubrange((c * n)..<((c + 1) * n), with: phi.storage)
        }
        return out
    }
}
