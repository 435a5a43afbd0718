import Geometry

/// Shape roundness of 2D masks and of their instances [reconstruction, METHODS §7].
public enum Roundness {
    /// skimage `measure.perimeter(mask, neighborhood=4)`, in pixel units: the inner boundary
    /// (cross erosion, border 0) with each boundary pixel weighted by its neighbourhood code.
    public static func perimeter(_ mask: Grid<Bool>) throws -> Double {
        guard mask.rank == 2 else { throw GeometryError.invalidShape("perimeter needs a 2D mask, got shape \(mask.shape)") }
        let b = try Boundary.inner(mask)
        let h = mask.shape[0], w = mask.shape[1]
        var weights = [Double](repeating: 0, count: 50)
        for i in [5, 7, 15, 17, 25, 27] { weights[i] = 1 }
        for i in [21, 33] { weights[i] = 2.0.squareRoot() }
        for i in [13, 23] { weights[i] = (1 + 2.0.squareRoot()) / 2 }
        var total = 0.0
        for y in 0..<h {
            for x in 0..<w where b[y, x] {
                // Code = 1 (centre) + 2 per edge neighbour + 10 per corner neighbour on the boundary.
                var code = 1
                for dy in -1...1 {
                    for dx in -1...1 where dy != 0 || dx != 0 {
                        let yy = y + dy, xx = x + dx
                        guard yy >= 0, yy < h, xx >= 0, xx < w, b[yy, xx] else { continue }
                        code += (dy == 0 || dx == 0) ? 2 : 10
                    }
                }
                total += weights[code]
            }
        }
        return total
    }

    /// Isoperimetric circularity 4πA/P² (1 for a disc), A the pixel count. NaN for an empty mask.
    public static func circularity(_ mask: Grid<Bool>) throws -> Double {
        let area = Double(mask.storage.filter { $0 }.count)
        let p = try perimeter(mask)
        return p == 0 ? .nan : 4 * Double.pi * area / (p * p)
    }

    /// Circularity of each 8-connected instance, in label order.
    public static func instanceCircularities(_ mask: Grid<Bool>) throws -> [Double] {
        let cc = try ConnectedComponents.label(mask, connectivity: .eight)
        guard cc.count > 0 else { return [] }
        // One pass for every instance's bounding box.
        let w = mask.shape[1]
        var lo = [Int](repeating: Int.max, count: 2 * cc.count), hi = [Int](repeating: 0, count: 2 * cc.count)
        for (i, l) in cc.labels.storage.enumerated() where l > 0 {
            let k = 2 * (Int(l) - 1), y = i / w, x = i % w
            lo[k] = min(lo[k], y); lo[k + 1] = min(lo[k + 1], x)
            hi[k] = max(hi[k], y + 1); hi[k + 1] = max(hi[k + 1], x + 1)
        }
        let boxes = (0..<cc.count).map { BoundingBox(lower: [lo[2 * $0], lo[2 * $0 + 1]], upper: [hi[2 * $0], hi[2 * $0 + 1]]) }
        return try (1...cc.count).map { k in
            let crop = cc.labels.cropped(to: boxes[k - 1]).map { $0 == Int32(k) }
            return try circularity(crop)
        }
    }
}

/// Roundness of a prediction against its truth (METHODS §7: roundness(A), roundness(G), |Δ|),
/// with the number of 8-connected instances on each side.
public struct RoundnessComparison: Sendable, Equatable {
    public var prediction: Double
    public var truth: Double
    public var predictionInstances: Int
    public var truthInstances: Int
    /// |roundness(A) − roundness(G)|; NaN when either mask is empty.
    public var difference: Double { abs(prediction - truth) }

    public init(prediction: Grid<Bool>, truth: Grid<Bool>) throws {
        self.prediction = try Roundness.circularity(prediction)
        self.truth = try Roundness.circularity(truth)
        predictionInstances = try ConnectedComponents.count(prediction, connectivity: .eight)
        truthInstances = try ConnectedComponents.count(truth, connectivity: .eight)
    }
}
