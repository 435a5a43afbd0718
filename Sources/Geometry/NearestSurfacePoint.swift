/// Exact nearest-element queries against a set of grid elements (a surface), with spacing.
///
/// The targets are bucketed into a uniform grid of cells; a query searches cells in growing
/// Chebyshev rings and stops once no unvisited cell can hold a nearer target, so the cost follows
/// the number of surface elements and their distances, not the box volume an EDT sweeps.
/// Squared distances use the per-axis terms and summation order of `DistanceTransform`'s
/// envelope passes, s₀²·d₀·d₀ + (s₁²·d₁·d₁ + (d₂·s₂)²) (2D: s₀²·d₀·d₀ + (d₁·s₁)²), and every
/// operation is monotone, so the result is exactly the minimum of that expression over all targets.
public struct NearestSurfacePoint: Sendable {
    /// Index-space extent, 2D padded with a leading axis of length 1.
    let shape: [Int]
    let cellSize: [Int]
    let cells: [Int]
    /// Targets of cell c are `points[3·start[c] ..< 3·start[c+1]]`, as (z, y, x) triples.
    let start: [Int32]
    let points: [Int32]
    /// Per-axis squared terms by absolute index offset, as the EDT computes them.
    let terms: [[Double]]
    public let count: Int

    /// Buckets the true elements of `targets` (rank 2 or 3). `cellSize` is the edge, in elements
    /// along the finest-spaced axis, of a bucket; other axes get the same physical edge.
    public init(_ targets: Grid<Bool>, spacing: [Double]? = nil, cellSize edge: Int? = nil) throws {
        guard targets.rank == 2 || targets.rank == 3 else {
            throw GeometryError.invalidArgument("nearest surface point: masks must be 2D or 3D, got rank \(targets.rank)")
        }
        let sp = try DistanceTransform.validatedSpacing(spacing ?? targets.spacing, rank: targets.rank)
        let shape = targets.rank == 3 ? targets.shape : [1] + targets.shape
        let spacing3 = targets.rank == 3 ? sp : [1] + sp
        let b = Double(max(1, edge ?? (targets.rank == 3 ? 3 : 4)))
        let finest = spacing3.min()!
        let cellSize = spacing3.map { max(1, Int((b * finest / $0).rounded())) }
        let cells = (0..<3).map { (shape[$0] + cellSize[$0] - 1) / max(1, cellSize[$0]) }
        var terms: [[Double]] = []
        for a in 0..<3 {
            let s = spacing3[a], s2 = s * s
            terms.append((0..<max(1, shape[a])).map { i -> Double in
                let d = Double(i)
                if a == 2 { let v = d * s; return v * v }
                return s2 * d * d
            })
        }
        let nCells = cells.reduce(1, *)
        var counts = [Int32](repeating: 0, count: nCells + 1)
        var n = 0
        let (ny, nx) = (shape[1], shape[2])
        targets.storage.withUnsafeBufferPointer { m in
            for i in 0..<m.count where m[i] {
                let z = i / (ny * nx), y = (i / nx) % ny, x = i % nx
                counts[((z / cellSize[0]) * cells[1] + y / cellSize[1]) * cells[2] + x / cellSize[2] + 1] += 1
                n += 1
            }
        }
        for c in 0..<nCells { counts[c + 1] += counts[c] }
        var fill = counts
        var points = [Int32](repeating: 0, count: 3 * n)
        targets.storage.withUnsafeBufferPointer { m in
            for i in 0..<m.count where m[i] {
                let z = i / (ny * nx), y = (i / nx) % ny, x = i % nx
                let c = ((z / cellSize[0]) * cells[1] + y / cellSize[1]) * cells[2] + x / cellSize[2]
                let k = Int(fill[c])
                fill[c] += 1
                points[3 * k] = Int32(z); points[3 * k + 1] = Int32(y); points[3 * k + 2] = Int32(x)
            }
        }
        self.shape = shape
        self.cellSize = cellSize
        self.cells = cells
        self.start = counts
        self.points = points
        self.terms = terms
        self.count = n
    }

    /// Squared distance from each true element of `queries` (raster order; same shape as the
    /// targets) to the nearest target; +inf when there are none. Returns nil when the search
    /// would cost more than `workBudget` cell and element visits (callers then use an EDT).
    public func squaredDistances(from queries: Grid<Bool>, workBudget: Int = .max) throws -> [Double]? {
        let qShape = queries.rank == 3 ? queries.shape : [1] + queries.shape
        guard qShape == shape else {
            throw GeometryError.invalidShape("nearest surface point: queries \(queries.shape) vs targets \(shape)")
        }
        var q: [Int32] = []
        let (ny, nx) = (shape[1], shape[2])
        queries.storage.withUnsafeBufferPointer { m in
            for i in 0..<m.count where m[i] {
                q.append(Int32(i / (ny * nx))); q.append(Int32((i / nx) % ny)); q.append(Int32(i % nx))
            }
        }
        let nq = q.count / 3
        var out = [Double](repeating: count == 0 ? .infinity : 0, count: nq)
        if count == 0 || nq == 0 { return out }
        var failed = false
        out.withUnsafeMutableBufferPointer { o in
            let dst = SharedPointer(o.baseAddress!)
            withContext(q) { ctx in
                if workBudget != .max && nq >= 4096 {
                    // Estimate the cost from an evenly spread sample of queries before committing.
                    let step = nq / 512
                    var work = 0
                    for i in stride(from: 0, to: nq, by: step) { _ = ctx.nearest(i, work: &work) }
                    if Double(work) * Double(step) > Double(workBudget) { failed = true; return }
                }
                Parallel.forRanges(nq, grain: 256) { range in
                    // Each chunk gets its share of the budget; NaN marks an abandoned chunk.
                    let share = workBudget == .max ? Int.max
                        : Int(Double(workBudget) * Double(range.count) / Double(nq))
                    var work = 0
                    for i in range {
                        dst[i] = ctx.nearest(i, work: &work)
                        if work > share { dst[range.lowerBound] = .nan; return }
                    }
                }
            }
            failed = failed || o.contains { $0.isNaN }
        }
        return failed ? nil : out
    }

    func withContext<R>(_ q: [Int32], _ body: (Context) -> R) -> R {
        q.withUnsafeBufferPointer { qb in
            points.withUnsafeBufferPointer { pb in
                start.withUnsafeBufferPointer { sb in
                    terms[0].withUnsafeBufferPointer { tz in
                        terms[1].withUnsafeBufferPointer { ty in
                            terms[2].withUnsafeBufferPointer { tx in
                                body(Context(q: qb, p: pb, start: sb, tz: tz, ty: ty, tx: tx,
                                             cellSize: (cellSize[0], cellSize[1], cellSize[2]),
                                             cells: (cells[0], cells[1], cells[2])))
                            }
                        }
                    }
                }
            }
        }
    }

    /// Raw views shared by the concurrent queries (read-only).
    struct Context: @unchecked Sendable {
        let q: UnsafeBufferPointer<Int32>, p: UnsafeBufferPointer<Int32>, start: UnsafeBufferPointer<Int32>
        let tz: UnsafeBufferPointer<Double>, ty: UnsafeBufferPointer<Double>, tx: UnsafeBufferPointer<Double>
        let cellSize: (Int, Int, Int), cells: (Int, Int, Int)

        @inline(__always)
        func nearest(_ i: Int, work: inout Int) -> Double {
            let qz = Int(q[3 * i]), qy = Int(q[3 * i + 1]), qx = Int(q[3 * i + 2])
            let cz = qz / cellSize.0, cy = qy / cellSize.1, cx = qx / cellSize.2
            var best = Double.infinity
            @inline(__always) func visit(_ z: Int, _ y: Int, _ x: Int) {
                // Lower bound for the whole cell from the per-axis gaps (terms are monotone).
                let gz = z < cz ? qz - ((z + 1) * cellSize.0 - 1) : (z > cz ? z * cellSize.0 - qz : 0)
                let gy = y < cy ? qy - ((y + 1) * cellSize.1 - 1) : (y > cy ? y * cellSize.1 - qy : 0)
                let gx = x < cx ? qx - ((x + 1) * cellSize.2 - 1) : (x > cx ? x * cellSize.2 - qx : 0)
                work += 1
                if tz[gz] + (ty[gy] + tx[gx]) >= best { return }
                let c = (z * cells.1 + y) * cells.2 + x
                let lo = Int(start[c]), hi = Int(start[c + 1])
                work += hi - lo
                for k in lo..<hi {
                    let dz = abs(Int(p[3 * k]) - qz), dy = abs(Int(p[3 * k + 1]) - qy), dx = abs(Int(p[3 * k + 2]) - qx)
                    let d = tz[dz] + (ty[dy] + tx[dx])
                    if d < best { best = d }
                }
            }
            var r = 0
            while true {
                let z0 = max(0, cz - r), z1 = min(cells.0 - 1, cz + r)
                let y0 = max(0, cy - r), y1 = min(cells.1 - 1, cy + r)
                let x0 = max(0, cx - r), x1 = min(cells.2 - 1, cx + r)
                for z in z0...z1 {
                    let onZ = abs(z - cz) == r
                    for y in y0...y1 {
                        if onZ || abs(y - cy) == r {
                            for x in x0...x1 { visit(z, y, x) }
                        } else {
                            if cx - r >= 0 { visit(z, y, cx - r) }
                            if r > 0 && cx + r < cells.2 { visit(z, y, cx + r) }
                        }
                    }
                }
                // Any target outside the searched cube lies beyond one of its faces.
                var bound = Double.infinity
                if cz - r > 0 { bound = min(bound, tz[qz - (cz - r) * cellSize.0 + 1]) }
                if cz + r + 1 < cells.0 { bound = min(bound, tz[(cz + r + 1) * cellSize.0 - qz]) }
                if cy - r > 0 { bound = min(bound, ty[qy - (cy - r) * cellSize.1 + 1]) }
                if cy + r + 1 < cells.1 { bound = min(bound, ty[(cy + r + 1) * cellSize.1 - qy]) }
                if cx - r > 0 { bound = min(bound, tx[qx - (cx - r) * cellSize.2 + 1]) }
                if cx + r + 1 < cells.2 { bound = min(bound, tx[(cx + r + 1) * cellSize.2 - qx]) }
                if best <= bound { return best }
                r += 1
            }
        }
    }
}
