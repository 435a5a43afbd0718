import Geometry

/// Rectified region-wise maps (Valverde & Tohka 2023; METHODS §2.2), for one case.
///
/// Per class c: d = edt(label == c); Z_c = −d / (max d + 1e-15) in [−1, 0]; then every 0 becomes
/// +1. A pixel of class k thus holds a reward −d/max d ≤ −1/max d in channel k and the
/// penalty +1 in every other channel; an absent class is +1 everywhere.
public enum RRWMap {
    /// What to do with a class that fills the whole image (no pixel to measure distance to).
    public enum FullClass: String, Sendable {
        /// Contour's default: the channel is −1 (the class is everywhere, reward everywhere).
        case clean
        /// The official maps: SciPy's distance to the virtual index (−1, 0, …) (METHODS §0),
        /// normalised by its maximum.
        case parity
    }

    /// The C maps of one label grid, channel-major (C × N values).
    public static func compute(_ labels: Grid<Int32>, classes: Int, spacing: [Double]? = nil,
                               fullClass: FullClass = .clean) throws -> [Double] {
        let n = labels.count
        var out = [Double](repeating: 1, count: classes * n)
        for c in 0..<classes {
            let mask = labels.map { $0 == Int32(c) }
            let count = mask.trueCount
            let base = c * n
            if count == 0 { continue }  // absent: +1 everywhere
            if count == n && fullClass == .clean {
                for i in 0..<n { out[base + i] = -1 }
                continue
            }
            let d = try DistanceTransform.euclidean(mask, spacing: spacing ?? Array(repeating: 1, count: labels.rank),
                                                    to: .background, noTarget: .scipyParity)
            let scale = (d.storage.max() ?? 0) + 1e-15
            for i in 0..<n {
                let z = -d.storage[i] / scale
                out[base + i] = z == 0 ? 1 : z
            }
        }
        return out
    }
}
