/// Inner boundaries (surfaces) of binary masks.
public enum Boundary {
    /// The foreground elements that have a neighbour (in `connectivity`) outside the mask:
    /// A XOR erode(A). With the default (4/6, outside the grid counts as background) this is the
    /// medpy/MONAI surface of METHODS §0; `borderIsBackground: false` ignores the grid edge.
    public static func inner(_ mask: Grid<Bool>, connectivity: Connectivity? = nil,
                             borderIsBackground: Bool = true) throws -> Grid<Bool> {
        let conn = connectivity ?? .minimal(rank: mask.rank)
        try conn.validate(rank: mask.rank)
        if conn == .minimal(rank: mask.rank) && (mask.rank == 2 || mask.rank == 3) {
            return minimalInner(mask, borderValue: !borderIsBackground)
        }
        let eroded = Morphology.neighbourhoodAll(mask, connectivity: conn, borderValue: !borderIsBackground)
        var out = eroded
        out.storage.withUnsafeMutableBufferPointer { o in
            mask.storage.withUnsafeBufferPointer { m in
                for i in 0..<m.count { o[i] = m[i] && !o[i] }
            }
        }
        return out
    }

    /// 4/6-connectivity boundary, row by row with byte arithmetic (no per-element branches):
    /// an element stays when it is true and one of its axis neighbours (or the grid edge, as
    /// `borderValue`) is false.
    static func minimalInner(_ mask: Grid<Bool>, borderValue: Bool) -> Grid<Bool> {
        let (nz, ny, nx) = mask.rank == 3 ? (mask.shape[0], mask.shape[1], mask.shape[2]) : (1, mask.shape[0], mask.shape[1])
        let total = nz * ny * nx
        guard total > 0 else { return mask }
        let edge: UInt8 = borderValue ? 1 : 0
        let flat = mask.rank == 2
        let storage = [Bool](unsafeUninitializedCapacity: total) { o, initialized in
            let border = [UInt8](repeating: edge, count: nx)
            mask.storage.withUnsafeBufferPointer { mb in
                border.withUnsafeBufferPointer { bb in
                    let m = UnsafeRawPointer(mb.baseAddress!).assumingMemoryBound(to: UInt8.self)
                    let out = SharedPointer(UnsafeMutableRawPointer(o.baseAddress!).assumingMemoryBound(to: UInt8.self))
                    let off = bb.baseAddress!
                    Parallel.forRanges(nz * ny, grain: max(1, 32768 / nx)) { rows in
                        for r in rows {
                            let z = r / ny, y = r % ny
                            let c = m + r * nx, o = out.base + r * nx
                            let up = y > 0 ? c - nx : off, down = y < ny - 1 ? c + nx : off
                            let front = flat ? c : (z > 0 ? c - ny * nx : off)
                            let back = flat ? c : (z < nz - 1 ? c + ny * nx : off)
                            if nx == 1 {
                                o[0] = c[0] & ~(edge & edge & up[0] & down[0] & front[0] & back[0]) & 1
                                continue
                            }
                            o[0] = c[0] & ~(edge & c[1] & up[0] & down[0] & front[0] & back[0]) & 1
                            for x in 1..<(nx - 1) {
                                o[x] = c[x] & ~(c[x - 1] & c[x + 1] & up[x] & down[x] & front[x] & back[x]) & 1
                            }
                            let l = nx - 1
                            o[l] = c[l] & ~(c[l - 1] & edge & up[l] & down[l] & front[l] & back[l]) & 1
                        }
                    }
                }
            }
            initialized = total
        }
        return Grid(unchecked: mask.shape, spacing: mask.spacing, storage: storage)
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
