/// Exact distance transforms on 2D/3D grids (SciPy `ndimage` semantics).
///
/// Euclidean: one separable pass per axis with the axis spacing, so anisotropic spacing is exact;
/// each line's pass is the minimum over the line of s²·d² + g, found by outward searches where
/// targets are near and by Felzenszwalb–Huttenlocher lower envelopes of parabolas where they are
/// not (`PlaneDistanceTransform.linePass`). In 2D/3D the contiguous axis's pass (3D: each plane's
/// 2D transform, in cache) reads the mask directly. Chessboard / taxicab: the two-pass chamfer of
/// `distance_transform_cdt` (exact for those metrics).
public enum DistanceTransform {
    /// Which elements distances are measured to.
    public enum Target: Sendable {
        /// SciPy `distance_transform_edt(mask)`: distance from each true element to the nearest
        /// false one; 0 on false elements.
        case background
        /// Distance from each false element to the nearest true one; 0 on true elements.
        case foreground
    }

    /// What to return when there is no target element at all.
    public enum NoTargetPolicy: Sendable {
        /// +inf everywhere (Contour's default: there is nothing to be near).
        case infinity
        /// SciPy's quirk (METHODS §0): the distance to the virtual index (−1, 0, …, 0),
        /// i.e. sqrt(((i₀+1)·s₀)² + (i₁·s₁)² + …). Use for parity with official code.
        case scipyParity
    }

    public enum Metric: String, Sendable, CaseIterable {
        case euclidean, chessboard, taxicab
    }

    /// Euclidean distance transform. `spacing` defaults to the grid's.
    public static func euclidean(_ mask: Grid<Bool>, spacing: [Double]? = nil, to target: Target = .background,
                                 noTarget: NoTargetPolicy = .infinity) throws -> Grid<Double> {
        try transform(mask, spacing: spacing, to: target, noTarget: noTarget, squareRoot: true)
    }

    /// Squared Euclidean distances (no square roots; exact sums of squared axis offsets).
    public static func squaredEuclidean(_ mask: Grid<Bool>, spacing: [Double]? = nil, to target: Target = .background,
                                        noTarget: NoTargetPolicy = .infinity) throws -> Grid<Double> {
        try transform(mask, spacing: spacing, to: target, noTarget: noTarget, squareRoot: false)
    }

    /// Squared Euclidean distances at the true elements of `queries` only (raster order), equal
    /// to `squaredEuclidean(mask, …)` there; +inf when there is no target (see
    /// `QueriedDistanceTransform`).
    public static func squaredEuclidean(_ mask: Grid<Bool>, spacing: [Double]? = nil, to target: Target = .background,
                                        at queries: Grid<Bool>) throws -> [Double] {
        guard queries.shape == mask.shape else {
            throw GeometryError.invalidShape("distance queries \(queries.shape) vs mask \(mask.shape)")
        }
        let sp = try validatedSpacing(spacing ?? mask.spacing, rank: mask.rank)
        let isTarget = target == .background ? false : true
        return QueriedDistanceTransform.squaredDistances(mask, isTarget: isTarget, spacing: sp, at: queries)
            ?? [Double](repeating: .infinity, count: queries.trueCount)
    }

    static func transform(_ mask: Grid<Bool>, spacing: [Double]?, to target: Target, noTarget: NoTargetPolicy,
                          squareRoot: Bool) throws -> Grid<Double> {
        let sp = try validatedSpacing(spacing ?? mask.spacing, rank: mask.rank)
        let isTarget = target == .background ? false : true
        let count = mask.count
        // Written once, from the mask (no zero fill first), on huge pages where the OS allows. The
        // contiguous axis's pass (3D: each plane's 2D transform) reads the mask directly, so the
        // volume is not swept once more per axis.
        var anyTarget = false
        var out = Grid<Double>(unchecked: mask.shape, spacing: sp, storage: [Double](unsafeUninitializedCapacity: count) { o, initialized in
            guard let base = o.baseAddress else { initialized = 0; return }
            adviseHugePages(base, count)
            anyTarget = mask.storage.withUnsafeBufferPointer { m in
                PlaneDistanceTransform.slicePasses(m.baseAddress!, isTarget: isTarget, into: base, shape: mask.shape, spacing: sp)
            }.contains(true)
            initialized = count
        })
        guard count > 0 else { return out }
        if !anyTarget {
            switch noTarget {
            case .infinity:
                break // already +inf everywhere (a row pass without a target writes +inf)
            case .scipyParity:
                fillVirtualIndexDistance(&out, spacing: sp)
                if squareRoot { out.storage = out.storage.map { $0.squareRoot() } }
            }
            return out
        }
        out.storage.withUnsafeMutableBufferPointer { o in
            stridedPass(SharedPointer(o.baseAddress!), shape: mask.shape, spacing: sp, axis: 0, squareRoot: squareRoot)
        }
        return out
    }

    /// Signed distance φ = edt(¬M)·¬M − (edt(M) − insideOffset)·M: positive outside, negative
    /// inside. `insideOffset` 1 gives Kervadec's Boundary-loss map (0 on the inner boundary);
    /// 0 gives the RW-repo variant. An empty mask gives all zeros (an absent class has no map).
    public static func signed(_ mask: Grid<Bool>, spacing: [Double]? = nil, insideOffset: Double = 1) throws -> Grid<Double> {
        let sp = try validatedSpacing(spacing ?? mask.spacing, rank: mask.rank)
        guard mask.storage.contains(true) else {
            return Grid(unchecked: mask.shape, spacing: sp, storage: [Double](repeating: 0, count: mask.count))
        }
        let outside = try euclidean(mask, spacing: sp, to: .foreground)
        // A full mask has no outside: SciPy's virtual-index distance keeps parity with the
        // official maps (METHODS §0).
        let inside = try euclidean(mask, spacing: sp, to: .background, noTarget: .scipyParity)
        var out = outside
        for i in 0..<mask.count where mask.storage[i] {
            out.storage[i] = -(inside.storage[i] - insideOffset)
        }
        return out
    }

    /// Chessboard or taxicab distance (SciPy `distance_transform_cdt`, in index units) from each
    /// element to the nearest target; −1 everywhere when there is no target (as SciPy).
    public static func chamfer(_ mask: Grid<Bool>, metric: Metric, to target: Target = .background) throws -> Grid<Int32> {
        guard metric != .euclidean else {
            throw GeometryError.invalidArgument("chamfer supports chessboard and taxicab; use euclidean(_:) for Euclidean")
        }
        let isTarget = target == .background ? false : true
        let big = Int32.max / 2
        var d = Grid<Int32>(unchecked: mask.shape, spacing: mask.spacing,
                            storage: mask.storage.map { $0 == isTarget ? 0 : big })
        guard d.storage.contains(0) else {
            d.storage = [Int32](repeating: -1, count: mask.count)
            return d
        }
        let shape3 = mask.rank == 3 ? mask.shape : [1] + mask.shape
        let (nz, ny, nx) = (shape3[0], shape3[1], shape3[2])
        // Neighbour offsets preceding the centre in raster order (the forward half).
        var half: [(Int, Int, Int)] = []
        for dz in -1...1 { for dy in -1...1 { for dx in -1...1 {
            if mask.rank == 2 && dz != 0 { continue }
            let order = dz * 9 + dy * 3 + dx
            guard order < 0 else { continue }
            let nonzero = abs(dz) + abs(dy) + abs(dx)
            if metric == .taxicab && nonzero != 1 { continue }
            half.append((dz, dy, dx))
        } } }
        d.storage.withUnsafeMutableBufferPointer { p in
            func pass(_ sign: Int) {
                let zs = sign > 0 ? Array(0..<nz) : Array((0..<nz).reversed())
                let ys = sign > 0 ? Array(0..<ny) : Array((0..<ny).reversed())
                let xs = sign > 0 ? Array(0..<nx) : Array((0..<nx).reversed())
                for z in zs { for y in ys { for x in xs {
                    let i = (z * ny + y) * nx + x
                    var best = p[i]
                    if best == 0 { continue }
                    for (dz, dy, dx) in half {
                        let zz = z + sign * dz, yy = y + sign * dy, xx = x + sign * dx
                        if zz < 0 || zz >= nz || yy < 0 || yy >= ny || xx < 0 || xx >= nx { continue }
                        let v = p[(zz * ny + yy) * nx + xx] + 1
                        if v < best { best = v }
                    }
                    p[i] = best
                } } }
            }
            pass(1)
            pass(-1)
        }
        return d
    }

    // MARK: - Internals

    static func validatedSpacing(_ sp: [Double], rank: Int) throws -> [Double] {
        guard sp.count == rank, sp.allSatisfy({ $0 > 0 && $0.isFinite }) else {
            throw GeometryError.invalidSpacing("spacing \(sp) must have \(rank) positive finite values")
        }
        return sp
    }

    static func fillVirtualIndexDistance(_ out: inout Grid<Double>, spacing sp: [Double]) {
        let shape = out.shape
        let strides = out.strides
        for i in 0..<out.count {
            var rem = i
            var s2 = 0.0
            for a in 0..<shape.count {
                let idx = rem / strides[a]
                rem -= idx * strides[a]
                let off = Double(a == 0 ? idx + 1 : idx) * sp[a]
                s2 += off * off
            }
            out.storage[i] = s2
        }
    }

    /// One pass along a strided `axis` (all axes after it done; `PlaneDistanceTransform.linePass`
    /// per line), square roots taken on the way out when `squareRoot`.
    static func stridedPass(_ f: SharedPointer<Double>, shape: [Int], spacing: [Double], axis: Int, squareRoot finalPass: Bool) {
        let total = shape.reduce(1, *)
        let n = shape[axis]
        let inner = shape[(axis + 1)...].reduce(1, *)
        let outer = total / (n * inner)
        let s2 = spacing[axis] * spacing[axis]
        // Lines along a strided axis are processed `block` at a time so that gathering reads
        // contiguous runs of memory (up to 512 bytes: one TLB page holds a row's whole run),
        // with the block's buffer kept within a core's L2.
        let block = inner == 1 ? 1 : min(inner, max(8, min(64, 32768 / n)))
        let blocksPerOuter = (inner + block - 1) / block
        let items = outer * blocksPerOuter
        Parallel.forRanges(items, grain: max(1, 32768 / (n * block))) { range in
            let buf = UnsafeMutablePointer<Double>.allocate(capacity: block * n)
            let result = UnsafeMutablePointer<Double>.allocate(capacity: block * n)
            let scratch = UnsafeMutablePointer<Double>.allocate(capacity: 3 * (n + 1))
            defer { buf.deallocate(); result.deallocate(); scratch.deallocate() }
            var wait = 0
            for item in range {
                let o = item / blocksPerOuter
                let i0 = (item % blocksPerOuter) * block
                let width = min(block, inner - i0)
                let base = o * n * inner + i0
                for q in 0..<n {
                    let row = base &+ q &* inner
                    for b in 0..<width { buf[b &* n &+ q] = f[row &+ b] }
                }
                for b in 0..<width {
                    PlaneDistanceTransform.linePass(buf + b * n, n: n, s2: s2, into: result + b * n, scratch: scratch, wait: &wait)
                }
                // Scatter row by row, `width` contiguous elements at a time (cache and TLB friendly).
                for q in 0..<n {
                    let row = base &+ q &* inner
                    if finalPass {
                        for b in 0..<width { f[row &+ b] = result[b &* n &+ q].squareRoot() }
                    } else {
                        for b in 0..<width { f[row &+ b] = result[b &* n &+ q] }
                    }
                }
            }
        }
    }

    /// One envelope pass over a contiguous line, in place. Zeros are targets and stay zero; a
    /// run of non-zero values between two zeros only needs the parabolas of the run and of its
    /// two bounding zeros (any parabola beyond a zero is above that zero's at every point of the
    /// run), so each run is an independent, short envelope (as seung-lab `edt` segments lines).
    @inline(__always)
    static func envelopeLine(_ g: UnsafeMutablePointer<Double>, n: Int, s2: Double, scratch: UnsafeMutablePointer<Double>) {
        let vd = scratch, fv = scratch + (n + 1), gv = scratch + 2 * (n + 1)
        let twoS2 = 2 * s2
        var a = 0
        while a < n {
            while a < n && g[a] == 0 { a += 1 }
            if a == n { return }
            var b = a + 1
            while b < n && g[b] != 0 { b += 1 }
            // Envelope of the run [a, b) and its bounding zeros a − 1 and b. Cross-multiplied
            // tests instead of divisions: with F(x) = g(x) + s²x², parabola p is hidden between
            // r < p < q when (F(q) − F(p))(p − r) ≤ (F(p) − F(r))(q − p).
            // The top of the stack stays in registers (reloading just-stored entries as a pair
            // stalls store forwarding).
            var k = -1
            var topV = 0.0, topF = 0.0
            for q in (a > 0 ? a - 1 : a)..<(b < n ? b + 1 : b) {
                let gq = g[q]
                if gq == .infinity { continue }
                let dq = Double(q)
                let fq = gq + s2 * dq * dq
                while k >= 1 {
                    let r = vd[k - 1], fr = fv[k - 1]
                    if (fq - topF) * (topV - r) <= (topF - fr) * (dq - topV) {
                        k -= 1; topV = r; topF = fr
                    } else { break }
                }
                k += 1
                vd[k] = dq
                fv[k] = fq
                gv[k] = gq
                topV = dq; topF = fq
            }
            // The envelope passes from v[j] to v[j+1] before q when F(v[j+1]) − F(v[j]) < 2s²·q·(v[j+1] − v[j]).
            if k >= 0 {
                var j = 0
                for q in a..<b {
                    let dq = Double(q)
                    while j < k && fv[j + 1] - fv[j] < twoS2 * dq * (vd[j + 1] - vd[j]) { j += 1 }
                    let off = dq - vd[j]
                    g[q] = s2 * off * off + gv[j]
                }
            }
            a = b
        }
    }
}
