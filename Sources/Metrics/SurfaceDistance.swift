import Geometry

/// Distances between the surfaces of a prediction and a truth (METHODS §7): surfaces are
/// A XOR erode(A) with the cross element and the grid edge as background (§0); each surface
/// element gets the exact Euclidean distance, with spacing, to the nearest element of the other
/// surface. Work is confined to the bounding box of A ∪ G (plus one voxel), as MONAI does.
public struct SurfaceDistances: Sendable {
    /// One distance per prediction-surface element, to the truth surface (raster order).
    public var predictionToTruth: [Double]
    /// One distance per truth-surface element, to the prediction surface.
    public var truthToPrediction: [Double]

    /// How HD95 combines the two directions.
    public enum PercentileConvention: String, Sendable, CaseIterable {
        /// MONAI: the larger of the two directed percentiles (Contour's default).
        case monai
        /// medpy `hd95` (nnU-Net v1, TopoMortar): the percentile of the pooled distances.
        case pooled
    }

    /// How ASSD averages.
    public enum AverageConvention: String, Sendable, CaseIterable {
        /// Mean of the pooled distances (MONAI `symmetric=True`; Contour's default).
        case pooled
        /// Mean of the two directed means (medpy `assd`).
        case meanOfMeans
    }

    public init(predictionToTruth: [Double], truthToPrediction: [Double]) {
        self.predictionToTruth = predictionToTruth
        self.truthToPrediction = truthToPrediction
    }

    /// How the distances are found; every choice gives the same values.
    public enum Method: String, Sendable, CaseIterable {
        /// The EDT at the surface elements, or the nearest-point search where the surfaces are sparse.
        case automatic
        /// Exact EDTs of both surfaces over the box, sampled at the other surface.
        case distanceTransform
        /// Exact nearest-point search over the surface elements (`NearestSurfacePoint`).
        case nearestPoint
    }

    public init(prediction: Grid<Bool>, truth: Grid<Bool>, spacing: [Double]? = nil,
                method: Method = .automatic) throws {
        try requireSameShape(prediction, truth)
        let sp = spacing ?? truth.spacing
        guard sp.count == truth.rank, sp.allSatisfy({ $0 > 0 && $0.isFinite }) else {
            throw GeometryError.invalidSpacing("spacing \(sp) must have \(truth.rank) positive finite values")
        }
        let boxes = [BoundingBox(prediction), BoundingBox(truth)].compactMap { $0 }
        guard let first = boxes.first else {
            self.init(predictionToTruth: [], truthToPrediction: [])
            return
        }
        let union = boxes.dropFirst().reduce(first) { b, c in
            BoundingBox(lower: zip(b.lower, c.lower).map { min($0, $1) }, upper: zip(b.upper, c.upper).map { max($0, $1) })
        }
        let box = union.expanded(by: 1, within: truth.shape)
        let a = prediction.cropped(to: box), g = truth.cropped(to: box)
        let sa = try Boundary.inner(a), sg = try Boundary.inner(g)
        let na = sa.trueCount, ng = sg.trueCount
        // MONAI: an empty side makes every distance from (and to) the other side +inf.
        if na == 0 || ng == 0 {
            let infs = [Double](repeating: .infinity, count: max(na, ng))
            self.init(predictionToTruth: infs, truthToPrediction: infs)
            return
        }
        func directed(from: Grid<Bool>, to: Grid<Bool>) throws -> [Double] {
            // Measured (bench geometry, quiet 2-core machine, since the EDT is evaluated at the queries only):
            // the EDT wins 2.3–3.2× in 2D at 4 % surface density (256², 512²) and 2.4× in 3D at 11 % (64³, 160³).
            // The search's cost grows with the surface, the EDT's with the box, so the search is kept for
            // surfaces sparser than those break-evens (≈ 1.5 % and 4.5 %), with margin.
            let dense = Double(na + ng) > (to.rank == 3 ? 0.03 : 0.01) * Double(to.count)
            if (method == .nearestPoint || (method == .automatic && !dense)) && (to.rank == 2 || to.rank == 3) {
                // Budget: a few visits per box element, roughly what the EDT's passes cost.
                let budget = method == .nearestPoint ? Int.max : 2 * to.rank * to.count
                if let d2 = try NearestSurfacePoint(to, spacing: sp).squaredDistances(from: from, workBudget: budget) {
                    return d2.map { $0.squareRoot() }
                }
            }
            var d = try DistanceTransform.squaredEuclidean(to, spacing: sp, to: .foreground, at: from)
            for i in d.indices { d[i] = d[i].squareRoot() }
            return d
        }
        self.init(predictionToTruth: try directed(from: sa, to: sg), truthToPrediction: try directed(from: sg, to: sa))
    }

    public var isEmpty: Bool { predictionToTruth.isEmpty && truthToPrediction.isEmpty }

    /// Hausdorff distance: the largest pooled distance. NaN when both masks are empty, +inf when one is.
    public var hausdorff: Double {
        if isEmpty { return .nan }
        return max(predictionToTruth.max() ?? -.infinity, truthToPrediction.max() ?? -.infinity)
    }

    /// Percentile Hausdorff distance, e.g. `percentile: 95` for HD95.
    public func hausdorff(percentile q: Double, convention: PercentileConvention = .monai) -> Double {
        if isEmpty { return .nan }
        switch convention {
        case .monai:
            return max(Self.percentile(predictionToTruth, q), Self.percentile(truthToPrediction, q))
        case .pooled:
            return Self.percentile(predictionToTruth + truthToPrediction, q)
        }
    }

    /// The percentile of the prediction→truth distances only (MONAI `directed=True`).
    public func directedHausdorff(percentile q: Double? = nil) -> Double {
        if predictionToTruth.isEmpty { return .nan }
        guard let q else { return predictionToTruth.max()! }
        return Self.percentile(predictionToTruth, q)
    }

    /// Average symmetric surface distance.
    public func averageSymmetric(convention: AverageConvention = .pooled) -> Double {
        if isEmpty { return .nan }
        switch convention {
        case .pooled:
            return (predictionToTruth.reduce(0, +) + truthToPrediction.reduce(0, +))
                / Double(predictionToTruth.count + truthToPrediction.count)
        case .meanOfMeans:
            let a = predictionToTruth.reduce(0, +) / Double(predictionToTruth.count)
            let b = truthToPrediction.reduce(0, +) / Double(truthToPrediction.count)
            return (a + b) / 2
        }
    }

    /// Normalised surface Dice at `tolerance` (MONAI `compute_surface_dice`): the fraction of
    /// both surfaces within the tolerance of the other. NaN when both are empty, 0 when one is.
    public func surfaceDice(tolerance: Double) -> Double {
        if isEmpty { return .nan }
        let hits = predictionToTruth.filter { $0 <= tolerance }.count + truthToPrediction.filter { $0 <= tolerance }.count
        return Double(hits) / Double(predictionToTruth.count + truthToPrediction.count)
    }

    /// Linear-interpolated percentile (numpy `percentile` / `torch.quantile` default), by
    /// selection rather than a full sort.
    public static func percentile(_ values: [Double], _ q: Double) -> Double {
        guard !values.isEmpty else { return .nan }
        let pos = min(max(q, 0), 100) / 100 * Double(values.count - 1)
        let lo = Int(pos.rounded(.down)), hi = Int(pos.rounded(.up))
        var v = values
        return v.withUnsafeMutableBufferPointer { b -> Double in
            let a = select(b, lo)
            if hi == lo { return a }
            var next = Double.infinity
            for i in (lo + 1)..<b.count where b[i] < next { next = b[i] }
            if a == next { return a }
            return a + (next - a) * (pos - Double(lo))
        }
    }

    /// The k-th smallest element; afterwards b[..<k] ≤ b[k] ≤ b[(k+1)...] (quickselect with a
    /// median-of-three pivot; falls back to sorting if partitions keep coming out lopsided).
    static func select(_ b: UnsafeMutableBufferPointer<Double>, _ k: Int) -> Double {
        var left = 0, right = b.count - 1
        var rounds = 0
        while left < right {
            rounds += 1
            if rounds > 64 {
                var part = UnsafeMutableBufferPointer(rebasing: b[left...right])
                part.sort()
                return b[k]
            }
            let mid = left + (right - left) / 2
            if b[mid] < b[left] { b.swapAt(mid, left) }
            if b[right] < b[left] { b.swapAt(right, left) }
            if b[right] < b[mid] { b.swapAt(right, mid) }
            let pivot = b[mid]
            var i = left, j = right
            while i <= j {
                while b[i] < pivot { i += 1 }
                while pivot < b[j] { j -= 1 }
                if i <= j { b.swapAt(i, j); i += 1; j -= 1 }
            }
            if k <= j { right = j } else if k >= i { left = i } else { return b[k] }
        }
        return b[k]
    }
}
