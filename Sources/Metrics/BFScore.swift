import Geometry

/// Boundary F1 score (MATLAB `bfscore` definition, METHODS §7) [reconstruction of the papers' usage].
///
/// Boundaries are the mask elements with a face neighbour outside the mask (the grid edge counts
/// as outside); a boundary element matches when the other boundary lies within the tolerance.
public struct BoundaryFScore: Sendable, Equatable {
    public var precision: Double
    public var recall: Double
    public var f1: Double

    /// The default tolerance: 0.75 % of the grid diagonal, in the spacing's units.
    public static func defaultTolerance(shape: [Int], spacing: [Double]) -> Double {
        var s2 = 0.0
        for (n, s) in zip(shape, spacing) { let e = Double(n) * s; s2 += e * e }
        return 0.0075 * s2.squareRoot()
    }

    /// `tolerance` is in physical units (pixels when the spacing is 1). Both boundaries empty:
    /// NaN; one empty: its precision (or recall) is 0 and F1 is 0.
    public init(prediction: Grid<Bool>, truth: Grid<Bool>, tolerance: Double? = nil, spacing: [Double]? = nil) throws {
        try requireSameShape(prediction, truth)
        let sp = spacing ?? truth.spacing
        let theta = tolerance ?? Self.defaultTolerance(shape: truth.shape, spacing: sp)
        guard theta >= 0, theta.isFinite else {
            throw GeometryError.invalidArgument("BFScore tolerance must be ≥ 0, got \(theta)")
        }
        let ba = try Boundary.inner(prediction), bg = try Boundary.inner(truth)
        let na = ba.storage.filter { $0 }.count, ng = bg.storage.filter { $0 }.count
        if na == 0 && ng == 0 {
            precision = .nan; recall = .nan; f1 = .nan
            return
        }
        if na == 0 || ng == 0 {
            precision = na == 0 ? .nan : 0
            recall = ng == 0 ? .nan : 0
            f1 = 0
            return
        }
        let t2 = theta * theta
        let toG = try DistanceTransform.squaredEuclidean(bg, spacing: sp, to: .foreground)
        let toA = try DistanceTransform.squaredEuclidean(ba, spacing: sp, to: .foreground)
        var hitA = 0, hitG = 0
        for i in 0..<ba.count {
            if ba.storage[i] && toG.storage[i] <= t2 { hitA += 1 }
            if bg.storage[i] && toA.storage[i] <= t2 { hitG += 1 }
        }
        precision = Double(hitA) / Double(na)
        recall = Double(hitG) / Double(ng)
        f1 = precision + recall == 0 ? 0 : 2 * precision * recall / (precision + recall)
    }
}
