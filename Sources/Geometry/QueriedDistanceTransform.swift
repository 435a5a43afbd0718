/// Squared EDT values at a sparse set of query elements (surface distances need them only on a
/// surface, not the whole transform), for 2D and 3D grids. The same per-axis terms and summation
/// order as `DistanceTransform.squaredEuclidean`; the outward searches return the exact minimum
/// of that expression, so values equal the full transform's up to its envelope's rounding (last
/// bit, anisotropic spacing only).
///
/// The in-slice passes are the full transform's (`PlaneDistanceTransform.slicePasses`: rows in
/// 2D, each z-plane's 2D transform while it is in cache in 3D). 3D: the z pass gathers only column
/// blocks through queries, skips planes without targets and searches outward from each query
/// (cost ∝ its distance) instead of building the column's envelope; the queries are then copied
/// out plane by plane. 2D: each query is searched along its column straight from the transform,
/// in raster order.
enum QueriedDistanceTransform {
    /// Squared distances at the true elements of `queries` (raster order) to the elements where
    /// `mask == isTarget`; nil when there is no target. Rank 2 or 3 only.
    static func squaredDistances(_ mask: Grid<Bool>, isTarget: Bool, spacing sp: [Double], at queries: Grid<Bool>) -> [Double]? {
        let rank = mask.rank
        let (nz, ny, nx) = rank == 3 ? (mask.shape[0], mask.shape[1], mask.shape[2]) : (1, mask.shape[0], mask.shape[1])
        let sy2 = sp[rank - 2] * sp[rank - 2], sz2 = rank == 3 ? sp[0] * sp[0] : 0
        let plane = ny * nx, total = nz * plane
        guard total > 0 else { return [] }
        // Slices whose queries are copied out together: planes in 3D, rows in 2D.
        let slices = rank == 3 ? nz : ny, sliceSize = rank == 3 ? plane : nx
        var sliceQueries = [Int](repeating: 0, count: slices)
        var sliceHasTarget: [Bool] = []
        var f = [Double](unsafeUninitializedCapacity: total) { o, initialized in
            adviseHugePages(o.baseAddress!, total)
            initialized = total
        }
        f.withUnsafeMutableBufferPointer { fb in
            mask.storage.withUnsafeBufferPointer { mb in
                queries.storage.withUnsafeBufferPointer { qb in
                    sliceQueries.withUnsafeMutableBufferPointer { cb in
                        let qp = qb.baseAddress!, counts = SharedPointer(cb.baseAddress!)
                        sliceHasTarget = PlaneDistanceTransform.slicePasses(mb.baseAddress!, isTarget: isTarget, into: fb.baseAddress!,
                                                                            shape: mask.shape, spacing: sp) { s in
                            counts[s] = countTrue(qp + s * sliceSize, sliceSize)
                        }
                    }
                }
            }
        }
        guard sliceHasTarget.contains(true) else { return nil }
        let nQueries = sliceQueries.reduce(0, +)
        guard nQueries > 0 else { return [] }
        let (n, inner, s2) = rank == 3 ? (nz, plane, sz2) : (ny, nx, sy2)
        var offsets = [Int](repeating: 0, count: slices + 1)
        for s in 0..<slices { offsets[s + 1] = offsets[s] + sliceQueries[s] }
        if rank == 2 {
            // The last pass straight from the transform, query by query in raster order: the rows
            // (planes) a search visits stay near the query's, so they are still in cache.
            return [Double](unsafeUninitializedCapacity: nQueries) { o, initialized in
                let op = SharedPointer(o.baseAddress!)
                f.withUnsafeBufferPointer { fb in
                    queries.storage.withUnsafeBufferPointer { qb in
                        offsets.withUnsafeBufferPointer { ob in
                            sliceHasTarget.withUnsafeBufferPointer { hb in
                                let fp = fb.baseAddress!, qp = qb.baseAddress!, off = ob.baseAddress!, has = hb.baseAddress!
                                Parallel.forRanges(slices, grain: max(1, 16384 / max(1, sliceSize))) { range in
                                    for s in range {
                                        var k = off[s]
                                        let base = fp + s * sliceSize
                                        forEachTrue(qp + s * sliceSize, sliceSize) { i in
                                            op[k] = nearest(base + i, stride: inner, has: has, n: n, at: s, s2: s2)
                                            k += 1
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
                initialized = nQueries
            }
        }
        // Last pass along the slowest axis, on columns through queries only.
        f.withUnsafeMutableBufferPointer { fb in
            queries.storage.withUnsafeBufferPointer { qb in
                sliceHasTarget.withUnsafeBufferPointer { hb in
                    let fp = SharedPointer(fb.baseAddress!), qp = qb.baseAddress!, has = hb.baseAddress!
                    let block = min(inner, max(8, min(64, 32768 / n)))
                    let blocks = (inner + block - 1) / block
                    Parallel.forRanges(blocks, grain: max(1, 32768 / (n * block))) { range in
                        let buf = UnsafeMutablePointer<Double>.allocate(capacity: block * n)
                        defer { buf.deallocate() }
                        var work = 0
                        for item in range {
                            let i0 = item * block, width = min(block, inner - i0)
                            var anyHit = false
                            for q in 0..<n where !anyHit {
                                let row = qp + q * inner + i0
                                for b in 0..<width where row[b] { anyHit = true; break }
                            }
                            guard anyHit else { continue }
                            for q in 0..<n {
                                if has[q] {
                                    let row = fp.base + q * inner + i0
                                    for b in 0..<width { buf[b &* n &+ q] = row[b] }
                                } else {
                                    for b in 0..<width { buf[b &* n &+ q] = .infinity }
                                }
                            }
                            for q in 0..<n {
                                let row = fp.base + q * inner + i0, qrow = qp + q * inner + i0
                                for b in 0..<width where qrow[b] { row[b] = PlaneDistanceTransform.nearest(buf + b * n, n: n, at: q, s2: s2, work: &work) }
                            }
                        }
                    }
                }
            }
        }
        // Copy the queries out in raster order, slice by slice.
        return [Double](unsafeUninitializedCapacity: nQueries) { o, initialized in
            let op = SharedPointer(o.baseAddress!)
            f.withUnsafeBufferPointer { fb in
                queries.storage.withUnsafeBufferPointer { qb in
                    offsets.withUnsafeBufferPointer { ob in
                        let fp = fb.baseAddress!, qp = qb.baseAddress!, off = ob.baseAddress!
                        Parallel.forRanges(slices, grain: max(1, 65536 / max(1, sliceSize))) { range in
                            for s in range {
                                var k = off[s]
                                let base = s * sliceSize
                                for i in base..<(base + sliceSize) where qp[i] { op[k] = fp[i]; k += 1 }
                            }
                        }
                    }
                }
            }
            initialized = nQueries
        }
    }

    /// `nearest` along a strided line of the transform (`g` at the query's element); lines whose
    /// slice has no target are +inf and not read.
    @inline(__always)
    static func nearest(_ g: UnsafePointer<Double>, stride: Int, has: UnsafePointer<Bool>, n: Int, at q: Int, s2: Double) -> Double {
        var best = has[q] ? g[0] : .infinity
        var k = 1
        while true {
            let dk = Double(k)
            let t = s2 * dk * dk
            if !(t < best) { return best }
            let lo = q - k, hi = q + k
            if lo < 0 && hi >= n { return best }
            if lo >= 0 && has[lo] { let v = t + g[-k * stride]; if v < best { best = v } }
            if hi < n && has[hi] { let v = t + g[k * stride]; if v < best { best = v } }
            k += 1
        }
    }

    /// Calls `body` with the index of each true element, skipping eight false ones at a time.
    @inline(__always)
    static func forEachTrue(_ p: UnsafePointer<Bool>, _ n: Int, _ body: (Int) -> Void) {
        let raw = UnsafeRawPointer(p)
        var i = 0
        while i + 8 <= n {
            if raw.loadUnaligned(fromByteOffset: i, as: UInt64.self) != 0 {
                for j in i..<(i + 8) where p[j] { body(j) }
            }
            i += 8
        }
        while i < n { if p[i] { body(i) }; i += 1 }
    }

    @inline(__always)
    static func countTrue(_ p: UnsafePointer<Bool>, _ n: Int) -> Int {
        var c = 0
        p.withMemoryRebound(to: UInt8.self, capacity: n) { b in
            for i in 0..<n { c &+= Int(b[i]) }
        }
        return c
    }
}
