/// The convex hull of a few points in 2 or 3 dimensions, as half-spaces n·x ≤ c (unit normals),
/// and its rasterisation: the voxels whose index lies in the hull, boundary included — the test
/// of SciPy's `Delaunay(points).find_simplex(x) >= 0` (BaBLoss's pseudo-mask fallback, METHODS
/// §5.5). Facets are found by brute force over every d-subset of the points (O(nᵈ⁺¹)), which is
/// instant for landmark sets of tens of points and needs no incremental hull bookkeeping.
public struct ConvexHull: Sendable {
    public let dimension: Int
    /// Unit outward normals and offsets: x is inside iff normals[f]·x ≤ offsets[f] (+ tolerance) for every f.
    public let normals: [[Double]]
    public let offsets: [Double]
    /// The points' bounding box (per axis).
    public let lower: [Double]
    public let upper: [Double]
    /// Distance tolerance of the inside test (boundary points count as inside, like find_simplex).
    public let tolerance: Double

    /// The hull of `points` (each of `dimension` = 2 or 3 coordinates). Throws when the points
    /// span no full-dimensional volume (fewer than d + 1 points, collinear or coplanar points):
    /// check `affineRank` first to treat that case yourself.
    public init(points: [[Double]]) throws {
        guard let d = points.first?.count, d == 2 || d == 3 else {
            throw GeometryError.invalidArgument("convex hull: points must have 2 or 3 coordinates, got \(points.first.map { "\($0.count)" } ?? "no points")")
        }
        guard points.allSatisfy({ $0.count == d && $0.allSatisfy(\.isFinite) }) else {
            throw GeometryError.invalidArgument("convex hull: every point needs \(d) finite coordinates")
        }
        let rank = Self.affineRank(points)
        guard rank == d else {
            throw GeometryError.invalidArgument("convex hull: the \(points.count) point(s) span \(rank) dimension(s), not \(d); the hull has no volume")
        }
        dimension = d
        lower = (0..<d).map { a in points.map { $0[a] }.min()! }
        upper = (0..<d).map { a in points.map { $0[a] }.max()! }
        let scale = zip(lower, upper).map { $1 - $0 }.max()!
        let tol = 1e-9 * Swift.max(1, scale)
        tolerance = tol
        var foundNormals: [[Double]] = []
        var foundOffsets: [Double] = []
        let n = points.count
        func consider(_ normal: [Double], through p: [Double]) {
            let length = normal.reduce(0) { $0 + $1 * $1 }.squareRoot()
            guard length > 1e-12 * Swift.max(1, scale * scale) else { return }
            let u = normal.map { $0 / length }
            let c = zip(u, p).reduce(0) { $0 + $1.0 * $1.1 }
            var above = false, below = false
            for q in points {
                let s = zip(u, q).reduce(0) { $0 + $1.0 * $1.1 } - c
                if s > tol { above = true } else if s < -tol { below = true }
                if above && below { return }
            }
            let (nu, nc) = above ? (u.map { -$0 }, -c) : (u, c)
            // The same supporting plane from another subset of its points.
            if zip(foundNormals, foundOffsets).contains(where: { m, o in Swift.abs(o - nc) <= tol && zip(m, nu).allSatisfy { Swift.abs($0 - $1) < 1e-9 } }) { return }
            foundNormals.append(nu)
            foundOffsets.append(nc)
        }
        if d == 2 {
            for i in 0..<n {
                for j in (i + 1)..<n {
                    let e = [points[j][0] - points[i][0], points[j][1] - points[i][1]]
                    consider([-e[1], e[0]], through: points[i])
                }
            }
        } else {
            for i in 0..<n {
                for j in (i + 1)..<n {
                    for k in (j + 1)..<n {
                        let a = (0..<3).map { points[j][$0] - points[i][$0] }, b = (0..<3).map { points[k][$0] - points[i][$0] }
                        consider([a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]], through: points[i])
                    }
                }
            }
        }
        normals = foundNormals
        offsets = foundOffsets
    }

    /// The dimension of the affine subspace the points span (0 for one point, 1 for collinear
    /// points, …), by Gaussian elimination of the differences to the first point.
    public static func affineRank(_ points: [[Double]]) -> Int {
        guard let p0 = points.first, points.count > 1 else { return 0 }
        var rows = points.dropFirst().map { p in zip(p, p0).map { $0 - $1 } }
        let scale = rows.flatMap { $0 }.map(Swift.abs).max() ?? 0
        guard scale > 0 else { return 0 }
        let eps = 1e-9 * scale
        var rank = 0
        for col in 0..<p0.count {
            guard let pivot = (rank..<rows.count).max(by: { Swift.abs(rows[$0][col]) < Swift.abs(rows[$1][col]) }),
                  Swift.abs(rows[pivot][col]) > eps else { continue }
            rows.swapAt(rank, pivot)
            for r in 0..<rows.count where r != rank {
                let f = rows[r][col] / rows[rank][col]
                for c in col..<p0.count { rows[r][c] -= f * rows[rank][c] }
            }
            rank += 1
            if rank == rows.count { break }
        }
        return rank
    }

    /// Whether `x` (d coordinates) lies in the hull, boundary included.
    public func contains(_ x: [Double]) -> Bool {
        for (n, c) in zip(normals, offsets) where zip(n, x).reduce(0, { $0 + $1.0 * $1.1 }) > c + tolerance { return false }
        return true
    }

    /// The voxels of a grid of `shape` (same axis order as the points) whose integer index lies
    /// in the hull; only the points' bounding box is tested.
    public func rasterize(shape: [Int]) throws -> Grid<Bool> {
        guard shape.count == dimension, shape.allSatisfy({ $0 > 0 }) else {
            throw GeometryError.invalidShape("convex hull: grid shape \(shape) does not fit \(dimension)-D points")
        }
        var grid = Grid(shape: shape, repeating: false)
        let lo = (0..<dimension).map { Swift.max(0, Int((lower[$0] - tolerance).rounded(.up))) }
        let hi = (0..<dimension).map { Swift.min(shape[$0] - 1, Int((upper[$0] + tolerance).rounded(.down))) }
        guard zip(lo, hi).allSatisfy({ $0 <= $1 }) else { return grid }
        // 2D runs as 3D with a last axis of extent 1.
        let three = dimension == 3
        let lo2 = three ? lo[2] : 0, hi2 = three ? hi[2] : 0
        let s0 = grid.strides[0], s1 = grid.strides[1], s2 = three ? grid.strides[2] : 0
        let n0 = normals.map { $0[0] }, n1 = normals.map { $0[1] }, n2 = normals.map { three ? $0[2] : 0 }
        let bound = offsets.map { $0 + tolerance }
        grid.storage.withUnsafeMutableBufferPointer { buffer in
            let out = SharedPointer(buffer.baseAddress!)
            Parallel.forRanges(hi[0] - lo[0] + 1) { range in
                for i in range {
                    let z = lo[0] + i
                    for y in lo[1]...hi[1] {
                        for x in lo2...hi2 {
                            var inside = true
                            for f in 0..<bound.count where n0[f] * Double(z) + n1[f] * Double(y) + n2[f] * Double(x) > bound[f] {
                                inside = false
                                break
                            }
                            if inside { out[z * s0 + y * s1 + x * s2] = true }
                        }
                    }
                }
            }
        }
        return grid
    }
}
