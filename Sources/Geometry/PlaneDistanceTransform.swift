/// The in-plane passes of the 2D/3D Euclidean distance transforms, shared by the full transform
/// (`DistanceTransform`) and the queried one (`QueriedDistanceTransform`): a plane's squared 2D
/// transform straight from the mask, row sweeps then column passes, while the plane is in cache
/// (the volume is written once instead of once per axis).
enum PlaneDistanceTransform {
    /// The passes along every axis but the first of a 2D/3D grid, straight from the mask into
    /// `o`: rows in 2D, whole planes in 3D. Per slice (row or plane), whether it has a target.
    /// `alongside(slice)` runs right after each slice's passes, on the same thread.
    static func slicePasses(_ m: UnsafePointer<Bool>, isTarget: Bool, into o: UnsafeMutablePointer<Double>,
                            shape: [Int], spacing sp: [Double], alongside: (Int) -> Void = { _ in }) -> [Bool] {
        let f = SharedPointer(o)
        let nx = shape[shape.count - 1], sx = sp[shape.count - 1]
        let slices = shape[0], sliceSize = shape.count == 2 ? nx : shape[1] * nx
        var has = [Bool](repeating: false, count: slices)
        has.withUnsafeMutableBufferPointer { hb in
            let h = SharedPointer(hb.baseAddress!)
            if shape.count == 2 {
                Parallel.forRanges(slices, grain: max(1, 16384 / max(1, nx))) { rows in
                    for y in rows {
                        h[y] = rowPass(m + y * nx, isTarget, f.base + y * nx, nx, sx)
                        alongside(y)
                    }
                }
            } else {
                let ny = shape[1], sy2 = sp[1] * sp[1]
                Parallel.forRanges(slices, grain: 1) { zs in
                    let w = Workspace(ny: ny, nx: nx)
                    defer { w.deallocate() }
                    for z in zs {
                        h[z] = transform(m + z * sliceSize, isTarget: isTarget, into: f.base + z * sliceSize,
                                         ny: ny, nx: nx, sx: sx, sy2: sy2, workspace: w)
                        alongside(z)
                    }
                }
            }
        }
        return has
    }

    /// One thread's buffers for `transform` (columns are processed `block` at a time).
    struct Workspace {
        let block: Int, ny: Int
        let buf: UnsafeMutablePointer<Double>, obuf: UnsafeMutablePointer<Double>, scratch: UnsafeMutablePointer<Double>

        init(ny: Int, nx: Int) {
            self.ny = ny
            block = max(1, min(nx, 64))
            buf = .allocate(capacity: block * ny)
            obuf = .allocate(capacity: block * ny)
            scratch = .allocate(capacity: 3 * (ny + 1))
        }

        func deallocate() { buf.deallocate(); obuf.deallocate(); scratch.deallocate() }
    }

    /// Squared 2D EDT of one ny × nx plane of `m` into `p` (+inf where the plane has no target);
    /// returns whether it has one. `sx` is the row spacing, `sy2` the column spacing squared.
    static func transform(_ m: UnsafePointer<Bool>, isTarget: Bool, into p: UnsafeMutablePointer<Double>,
                          ny: Int, nx: Int, sx: Double, sy2: Double, workspace w: Workspace) -> Bool {
        var any = false
        for y in 0..<ny where rowPass(m + y * nx, isTarget, p + y * nx, nx, sx) { any = true }
        guard any else { return false }
        var x0 = 0, wait = 0
        while x0 < nx {
            let width = min(w.block, nx - x0)
            for y in 0..<ny {
                let row = p + y * nx + x0
                for b in 0..<width { w.buf[b &* ny &+ y] = row[b] }
            }
            for b in 0..<width {
                linePass(w.buf + b * ny, n: ny, s2: sy2, into: w.obuf + b * ny, scratch: w.scratch, wait: &wait)
            }
            for y in 0..<ny {
                let row = p + y * nx + x0
                for b in 0..<width { row[b] = w.obuf[b &* ny &+ y] }
            }
            x0 += width
        }
        return true
    }

    /// One pass along a contiguous line into `out`: outward searches while they stay cheap
    /// (targets near), else the envelope. Where the searches run long, the caller's next
    /// `retryAfter` lines (its neighbours, much alike) take the envelope at once: `wait` counts
    /// them down, so a wasted search costs a few percent of the lines it stands for.
    @inline(__always)
    static func linePass(_ line: UnsafeMutablePointer<Double>, n: Int, s2: Double, into out: UnsafeMutablePointer<Double>,
                         scratch: UnsafeMutablePointer<Double>, wait: inout Int) {
        if wait == 0 {
            var work = 0
            var y = 0
            while y < n && work <= searchBudget &* n {
                out[y] = nearest(line, n: n, at: y, s2: s2, work: &work)
                y += 1
            }
            if y == n { return }
            wait = retryAfter
        } else {
            wait -= 1
        }
        DistanceTransform.envelopeLine(line, n: n, s2: s2, scratch: scratch)
        out.update(from: line, count: n)
    }

    /// Search steps per element before a line takes the envelope (HD95's queried transform ran 20 %
    /// slower at 4), and the lines a thread then gives the envelope before searching again.
    static let searchBudget = 8, retryAfter = 64

    /// The 1D pass along a contiguous row, straight from the mask: squared distances (d·s)² to
    /// the row's nearest target, +inf when it has none (returns whether it has one).
    @inline(__always)
    static func rowPass(_ m: UnsafePointer<Bool>, _ isTarget: Bool, _ f: UnsafeMutablePointer<Double>, _ n: Int, _ s: Double) -> Bool {
        var d = Double.infinity
        var any = false
        for q in 0..<n {
            if m[q] == isTarget { d = 0; any = true } else { d += 1 }
            f[q] = d
        }
        guard any else { return false }
        d = .infinity
        for q in stride(from: n - 1, through: 0, by: -1) {
            d = f[q] == 0 ? 0 : min(d + 1, f[q])
            let v = d * s
            f[q] = v * v
        }
        return true
    }

    /// A pass at one element: min over the line of s²·k·k + g(q ± k), searched outward from q
    /// until s²·k² alone reaches the best value (the envelope's expression, so the same value;
    /// the cost follows the element's distance, not the line's length).
    @inline(__always)
    static func nearest(_ g: UnsafePointer<Double>, n: Int, at q: Int, s2: Double, work: inout Int) -> Double {
        var best = g[q]
        var k = 1
        while true {
            work &+= 1
            let dk = Double(k)
            let t = s2 * dk * dk
            if !(t < best) { return best }
            let lo = q - k, hi = q + k
            if lo < 0 && hi >= n { return best }
            if lo >= 0 { let v = t + g[lo]; if v < best { best = v } }
            if hi < n { let v = t + g[hi]; if v < best { best = v } }
            k += 1
        }
    }
}
