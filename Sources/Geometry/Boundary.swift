/// Inner boundaries (surfaces) of binary masks.
public enum Boundary {
    /// The foreground elements that have a neighbour (in `connectivity`) outside the mask:
    /// A XOR erode(A). With the default (4/6, outside the grid counts as background) this is the
    /// medpy/MONAI surface of METHODS §0; `borderIsBackground: false` ignores the grid edge.
    public static func inner(_ mask: Grid<Bool>, connectivity: Connectivity? = nil,
                             borderIsBackground: Bool = true) throws -> Grid<Bool> {
        let conn = connectivity ?? .minimal(rank: mask.rank)
        try conn.validate(rank: mask.rank)
        let eroded = Morphology.neighbourhoodAll(mask, connectivity: conn, borderValue: !borderIsBackground)
        var out = eroded
        out.storage.withUnsafeMutableBufferPointer { o in
            mask.storage.withUnsafeBufferPointer { m in
                for i in 0..<m.count { o[i] = m[i] && !o[i] }
            }
        }
        return out
    }

    /// The inner boundary grown by a tolerance: every element within `tolerance` (physical units
    /// with the grid's spacing) of a boundary element.
    public static func inner(_ mask: Grid<Bool>, tolerance: Double, connectivity: Connectivity? = nil) throws -> Grid<Bool> {
        guard tolerance >= 0, tolerance.isFinite else {
            throw GeometryError.invalidArgument("boundary tolerance must be ≥ 0, got \(tolerance)")
        }
        let b = try inner(mask, connectivity: connectivity)
        guard b.storage.contains(true) else { return b }
        let d2 = try DistanceTransform.squaredEuclidean(b, to: .foreground)
        return d2.map { $0 <= tolerance * tolerance }
    }
}
