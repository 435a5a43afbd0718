/// Neighbourhoods on the voxel grid: 4/8 in 2D, 6/18/26 in 3D.
public enum Connectivity: Int, Sendable, CaseIterable {
    case four = 4, eight = 8, six = 6, eighteen = 18, twentySix = 26

    /// Face neighbours only (4 in 2D, 6 in 3D): SciPy's default cross.
    public static func minimal(rank: Int) -> Connectivity { rank == 2 ? .four : .six }
    /// Every touching neighbour (8 in 2D, 26 in 3D).
    public static func maximal(rank: Int) -> Connectivity { rank == 2 ? .eight : .twentySix }

    /// Throws when this connectivity does not exist in `rank` dimensions.
    public func validate(rank: Int) throws {
        let ok = rank == 2 ? (self == .four || self == .eight) : (self == .six || self == .eighteen || self == .twentySix)
        if !ok {
            throw GeometryError.invalidArgument(
                "connectivity \(rawValue) does not apply to \(rank)D grids (use \(rank == 2 ? "4 or 8" : "6, 18 or 26"))")
        }
    }

    /// Largest |dz|+|dy|+|dx| of a neighbour offset (1: faces, 2: edges, 3: corners).
    var maxL1: Int {
        switch self {
        case .four, .six: return 1
        case .eight, .eighteen: return 2
        case .twentySix: return 3
        }
    }

    func contains(_ o: (Int, Int, Int)) -> Bool {
        let l1 = abs(o.0) + abs(o.1) + abs(o.2)
        return l1 > 0 && abs(o.0) <= 1 && abs(o.1) <= 1 && abs(o.2) <= 1 && l1 <= maxL1
    }
}

/// A component labelling: 0 is background, components are 1…count in raster order of their
/// first voxel (the order of `scipy.ndimage.label` and cc3d).
public struct ComponentLabeling: Sendable {
    public var labels: Grid<Int32>
    public var count: Int
    /// `sizes[k - 1]` is the voxel count of component `k`.
    public var sizes: [Int]

    /// The label of the largest component, the lowest label on ties (numpy's argmax of the
    /// sizes); nil when there is none.
    public var largest: Int32? {
        guard var best = sizes.indices.first else { return nil }
        for k in sizes.indices where sizes[k] > sizes[best] { best = k }
        return Int32(best + 1)
    }
}

/// Connected-component labelling by union–find over runs, parallel over slabs merged afterwards.
public enum ConnectedComponents {
    /// Labels the true elements of `mask`.
    public static func label(_ mask: Grid<Bool>, connectivity: Connectivity) throws -> ComponentLabeling {
        try connectivity.validate(rank: mask.rank)
        try checkSize(mask.count)
        return mask.storage.withUnsafeBufferPointer { keys in
            labelCore(keys, background: false, shape: mask.shape, spacing: mask.spacing, connectivity: connectivity,
                      wantLabels: true)
        }
    }

    /// Labels a multi-label map: neighbours join only when they hold the same non-zero value
    /// (cc3d's multi-label semantics).
    public static func label<T: BinaryInteger & Sendable>(_ map: Grid<T>, connectivity: Connectivity) throws -> ComponentLabeling {
        try connectivity.validate(rank: map.rank)
        try checkSize(map.count)
        return map.storage.withUnsafeBufferPointer { keys in
            labelCore(keys, background: 0, shape: map.shape, spacing: map.spacing, connectivity: connectivity,
                      wantLabels: true)
        }
    }

    /// The number of components, without building the label map.
    public static func count(_ mask: Grid<Bool>, connectivity: Connectivity) throws -> Int {
        try connectivity.validate(rank: mask.rank)
        try checkSize(mask.count)
        return mask.storage.withUnsafeBufferPointer { keys in
            labelCore(keys, background: false, shape: mask.shape, spacing: mask.spacing, connectivity: connectivity,
                      wantLabels: false).count
        }
    }

    /// Run ids and labels are Int32: a grid must fit their range.
    static func checkSize(_ n: Int) throws {
        if n >= Int(Int32.max) {
            throw GeometryError.invalidArgument("connected components: a grid of \(n) elements exceeds the \(Int32.max) that labels can index")
        }
    }

    // MARK: - Core

    /// One slab's share of the final numbering.
    struct SlabIds {
        var count: Int32 = 0
        var sizes: [Int] = []         // per slab-local root
        var crossParent: [Int32] = [] // crossing k: a parent in an earlier slab…
        var crossSize: [Int] = []     // …and the voxels of this slab's runs that reach it
        var crossLabel: [Int32] = []
    }

    /// Run-based union–find, fused with the run scan: each maximal run of equal keys along x is
    /// one provisional label; as each row's runs are found they join the runs of the earlier rows
    /// they touch (same plane y−1; previous plane y−1, y, y+1), with the overlap widened by one
    /// voxel where the connectivity includes diagonal steps: masks look the touched runs up from
    /// the rows' bits and per-element run ids, multi-label maps by a merge walk of the two sorted
    /// run lists. Slabs of rows are labelled in parallel and merged at their seams. Run ids grow in
    /// raster order (each slab owns a fixed stretch of the run buffers, so slabs need no
    /// renumbering) and every set keeps its smallest run as root, so final labels follow the
    /// raster order of each component's first voxel.
    static func labelCore<K: Equatable>(_ keys: UnsafeBufferPointer<K>, background: K, shape: [Int], spacing: [Double],
                                        connectivity: Connectivity, wantLabels: Bool) -> ComponentLabeling {
        let n = keys.count
        let (nz, ny, nx) = shape.count == 3 ? (shape[0], shape[1], shape[2]) : (1, shape[0], shape[1])
        guard n > 0 else {
            return ComponentLabeling(labels: Grid(unchecked: shape, spacing: spacing, storage: [Int32](repeating: 0, count: n)),
                                     count: 0, sizes: [])
        }
        let rows = nz * ny
        let l1 = connectivity.maxL1
        // Widening of the x-overlap test towards each neighbour row (nil: not a neighbour).
        let sameY: Int32 = l1 >= 2 ? 1 : 0                         // (dz, dy) = (0, −1)
        let prevPlaneSameY: Int32 = l1 >= 2 ? 1 : 0                // (−1, 0)
        let prevPlaneOtherY: Int32? = l1 == 3 ? 1 : (l1 == 2 ? 0 : nil) // (−1, ±1)
        let kp = keys.baseAddress!
        let isBool = K.self == Bool.self

        // Slabs are whole planes in 3D, rows in 2D, so a seam only links a slab to the one before.
        let unitRows = nz > 1 ? ny : 1
        let units = rows / unitRows
        let slabCount = min(units, 16)
        func slabRows(_ s: Int) -> Range<Int> { (units * s / slabCount * unitRows)..<(units * (s + 1) / slabCount * unitRows) }

        // A row holds at most ⌈nx/2⌉ runs of a mask (nx of a multi-label map); slab s writes its
        // runs contiguously from the stretch of its first row on, so ids are global and ordered
        // without a copy. Untouched capacity stays virtual.
        let perRow = isBool ? (nx + 1) / 2 : nx
        let capacity = rows * perRow
        let x0 = UnsafeMutablePointer<Int32>.allocate(capacity: capacity)
        let x1 = UnsafeMutablePointer<Int32>.allocate(capacity: capacity)
        let parent = UnsafeMutablePointer<Int32>.allocate(capacity: capacity)
        // Run buffers stay on 4 KiB pages: each slab touches only the start of its stretch.
        let rowStart = UnsafeMutablePointer<Int>.allocate(capacity: rows)
        let rowEnd = UnsafeMutablePointer<Int>.allocate(capacity: rows)
        defer { x0.deallocate(); x1.deallocate(); parent.deallocate(); rowStart.deallocate(); rowEnd.deallocate() }
        let a0p = SharedPointer(x0), a1p = SharedPointer(x1), pp = SharedPointer(parent)
        let rsp = SharedPointer(rowStart), rep = SharedPointer(rowEnd)

        @inline(__always) func find(_ a: Int32) -> Int32 {
            var a = a
            while true {
                let p = pp[Int(a)]
                if p == a { return a }
                let g = pp[Int(p)]
                pp[Int(a)] = g   // path halving
                a = g
                if p == g { return g }
            }
        }
        /// Unions the runs of row r with those of row q that overlap once widened by w (and hold
        /// equal keys): a merge walk, advancing whichever run ends first.
        @inline(__always) func linkRows(_ r: Int, _ q: Int, _ w: Int32) {
            var i = rsp[r], j = rsp[q]
            let iEnd = rep[r], jEnd = rep[q]
            guard i < iEnd && j < jEnd else { return }
            let baseA = r * nx, baseB = q * nx
            var ai0 = a0p[i], ai1 = a1p[i], bj0 = a0p[j], bj1 = a1p[j]
            // Roots of the current i and j, found once (-1: not yet); every union here updates both.
            var ri: Int32 = -1, rj: Int32 = -1
            while true {
                if ai0 < bj1 &+ w && bj0 < ai1 &+ w
                    && (isBool || kp[baseA + Int(ai0)] == kp[baseB + Int(bj0)]) {
                    if ri < 0 { ri = find(Int32(truncatingIfNeeded: i)) }
                    if rj < 0 { rj = find(Int32(truncatingIfNeeded: j)) }
                    if ri < rj { pp[Int(rj)] = ri; rj = ri } else if rj < ri { pp[Int(ri)] = rj; ri = rj }
                }
                if ai1 <= bj1 {
                    // Runs of different keys may touch: on a tie, run j + 1 can start where both
                    // end and still reach run i diagonally.
                    if !isBool && w > 0 && ai1 == bj1 && j + 1 < jEnd && a0p[j + 1] == ai1
                        && kp[baseA + Int(ai0)] == kp[baseB + Int(ai1)] {
                        if ri < 0 { ri = find(Int32(truncatingIfNeeded: i)) }
                        let rk = find(Int32(truncatingIfNeeded: j + 1))
                        if ri < rk { pp[Int(rk)] = ri } else if rk < ri { pp[Int(ri)] = rk; ri = rk }
                        rj = -1
                    }
                    i += 1
                    if i == iEnd { return }
                    ai0 = a0p[i]; ai1 = a1p[i]; ri = -1
                } else {
                    j += 1
                    if j == jEnd { return }
                    bj0 = a0p[j]; bj1 = a1p[j]; rj = -1
                }
            }
        }
        /// Links row r with its neighbour rows among `allowed`.
        func linkRow(_ r: Int, within allowed: Range<Int>) {
            let z = r / ny, y = r % ny
            if y > 0 && allowed.contains(r - 1) { linkRows(r, r - 1, sameY) }
            if z > 0 {
                let p = r - ny
                if allowed.contains(p) { linkRows(r, p, prevPlaneSameY) }
                if let w = prevPlaneOtherY {
                    if y > 0 && allowed.contains(p - 1) { linkRows(r, p - 1, w) }
                    if y < ny - 1 && allowed.contains(p + 1) { linkRows(r, p + 1, w) }
                }
            }
        }
        /// Finds the runs of row r, writing them from id `start` on; returns the end id.
        @inline(__always) func scanRow(_ r: Int, _ start: Int) -> Int {
            let base = r * nx
            var out = start
            var x = 0
            if isBool {
                let bytes = UnsafeRawPointer(kp)
                // Booleans are bytes 0/1: XOR each 8-byte word with itself shifted by one byte,
                // so that set bits mark the run boundaries inside it.
                var inRun = bytes.load(fromByteOffset: base, as: UInt8.self) != 0
                var runStart: Int32 = 0
                while x + 9 <= nx {
                    let w = bytes.loadUnaligned(fromByteOffset: base + x, as: UInt64.self)
                    let next = UInt64(bytes.load(fromByteOffset: base + x + 8, as: UInt8.self))
                    var d = w ^ ((w >> 8) | (next << 56))
                    while d != 0 {
                        let edge = Int32(truncatingIfNeeded: x + d.trailingZeroBitCount / 8 + 1)
                        d &= d - 1
                        if inRun { a0p[out] = runStart; a1p[out] = edge; pp[out] = Int32(truncatingIfNeeded: out); out += 1 } else { runStart = edge }
                        inRun.toggle()
                    }
                    x += 8
                }
                while x + 1 < nx {
                    if bytes.load(fromByteOffset: base + x, as: UInt8.self) != bytes.load(fromByteOffset: base + x + 1, as: UInt8.self) {
                        let edge = Int32(truncatingIfNeeded: x + 1)
                        if inRun { a0p[out] = runStart; a1p[out] = edge; pp[out] = Int32(truncatingIfNeeded: out); out += 1 } else { runStart = edge }
                        inRun.toggle()
                    }
                    x += 1
                }
                if inRun { a0p[out] = runStart; a1p[out] = Int32(truncatingIfNeeded: nx); pp[out] = Int32(truncatingIfNeeded: out); out += 1 }
                return out
            }
            while x < nx {
                let k = kp[base + x]
                if k == background { x += 1; continue }
                let s = x
                x += 1
                while x < nx && kp[base + x] == k { x += 1 }
                a0p[out] = Int32(truncatingIfNeeded: s); a1p[out] = Int32(truncatingIfNeeded: x)
                pp[out] = Int32(truncatingIfNeeded: out); out += 1
            }
            return out
        }

        // Masks: every row is also kept as bits (bit x + 1 for element x, so that a window one
        // wider than a run never leaves the row) and, for the rows a run can reach, as run ids
        // per element in a ring. A run then finds the runs of a neighbour row it touches from the
        // first and last set bit in its widened window: they are that stretch of ids, one union
        // each, without walking the row. In 26-connectivity a run covered by a run of the row
        // above (same plane) or of the same row in the previous plane skips the rows that run
        // has already reached (a decision tree on runs, as cc3d's on voxels).
        let words = (nx + 2 + 63) / 64
        let bits = isBool ? UnsafeMutablePointer<UInt64>.allocate(capacity: rows * words + 1) : nil
        defer { bits?.deallocate() }
        bits?[rows * words] = 0
        let bp = bits.map(SharedPointer.init)
        let ringRows = nz > 1 ? ny + 2 : 2
        let stride = (nx + 2 + 7 + 15) & ~15

        /// Writes run [a, b)'s id on its elements (shifted by one), eight at a time: the overshoot
        /// lands on later elements, rewritten by later runs or never read.
        @inline(__always) func writeIds(_ ids: UnsafeMutablePointer<Int32>, _ a: Int, _ b: Int, _ id: Int32) {
            let v8 = SIMD8<Int32>(repeating: id)
            var x = a + 1
            repeat { UnsafeMutableRawPointer(ids + x).storeBytes(of: v8, as: SIMD8<Int32>.self); x += 8 } while x <= b
        }
        /// Packs row r's booleans into bits (shifted by one) and writes its runs, their parents
        /// and their ids per element; returns the end id.
        @inline(__always) func scanBits(_ r: Int, _ start: Int, _ ids: UnsafeMutablePointer<Int32>) -> Int {
            let base = r * nx
            let row = bp!.base + r * words
            let bytes = UnsafeRawPointer(kp)
            var carry: UInt64 = 0
            for k in 0..<words {
                let from = k * 64
                var u: UInt64 = 0
                if from < nx {
                    let full = min(64, nx - from)
                    var c = 0
                    // 0/1 bytes to bits: the multiply gathers byte i's low bit into bit 56 + i.
                    if full == 64 {
                        for c in Swift.stride(from: 0, to: 64, by: 8) {
                            let w = bytes.loadUnaligned(fromByteOffset: base + from + c, as: UInt64.self)
                            u |= ((w &* 0x0102_0408_1020_4080) >> 56) << UInt64(c)
                        }
                        c = 64
                    }
                    while c + 8 <= full {
                        let w = bytes.loadUnaligned(fromByteOffset: base + from + c, as: UInt64.self)
                        u |= ((w &* 0x0102_0408_1020_4080) >> 56) << UInt64(c)
                        c += 8
                    }
                    while c < full {
                        if bytes.load(fromByteOffset: base + from + c, as: UInt8.self) != 0 { u |= 1 << UInt64(c) }
                        c += 1
                    }
                }
                row[k] = (u << 1) | carry
                carry = u >> 63
            }
            var out = start
            var inRun = false
            var runStart = 0
            carry = 0
            for k in 0..<words {
                let v = row[k]
                var d = v ^ ((v << 1) | carry)
                carry = v >> 63
                while d != 0 {
                    let edge = k * 64 + d.trailingZeroBitCount - 1
                    d &= d - 1
                    if inRun {
                        a0p[out] = Int32(truncatingIfNeeded: runStart); a1p[out] = Int32(truncatingIfNeeded: edge)
                        let id = Int32(truncatingIfNeeded: out)
                        pp[out] = id
                        writeIds(ids, runStart, edge, id)
                        out += 1
                    } else {
                        runStart = edge
                    }
                    inRun.toggle()
                }
            }
            return out
        }
        /// 57 bits of row q from bit x on (x shifted), by one unaligned load.
        @inline(__always) func bitsAt(_ q: Int, _ x: Int) -> UInt64 {
            UnsafeRawPointer(bp!.base + q * words).loadUnaligned(fromByteOffset: x >> 3, as: UInt64.self) >> UInt64(x & 7)
        }
        /// Whether row q's elements cover run [a, b) entirely.
        @inline(__always) func covers(_ q: Int, _ a: Int, _ b: Int) -> Bool {
            let n = b - a
            if n <= 56 {
                let m: UInt64 = (1 << UInt64(n)) &- 1
                return bitsAt(q, a + 1) & m == m
            }
            let row = bp!.base + q * words
            var x = a + 1
            let end = b + 1
            while x < end {
                let k = x >> 6, o = x & 63
                let n = min(64 - o, end - x)
                let m: UInt64 = n == 64 ? ~0 : ((1 << UInt64(n)) - 1)
                if (row[k] >> UInt64(o)) & m != m { return false }
                x += n
            }
            return true
        }
        /// Unions run i (root `root`) with every run of row q touching [a − w, b + w); returns the new root.
        @inline(__always) func linkRun(_ root: Int32, _ a: Int, _ b: Int, _ q: Int, _ w: Int,
                                       _ qIds: UnsafeMutablePointer<Int32>) -> Int32 {
            let lo = a + 1 - w, hi = b + w   // inclusive, shifted
            let xf: Int, xl: Int
            if hi - lo < 56 {
                let m = bitsAt(q, lo) & ((2 << UInt64(hi - lo)) &- 1)
                if m == 0 { return root }
                xf = lo + m.trailingZeroBitCount
                xl = lo + 63 - m.leadingZeroBitCount
            } else {
            let row = bp!.base + q * words
            var k = lo >> 6
            var m = row[k] & (~0 << UInt64(lo & 63))
            let kHi = hi >> 6
            while m == 0 {
                k += 1
                if k > kHi { return root }
                m = row[k]
            }
            xf = k * 64 + m.trailingZeroBitCount
            if xf > hi { return root }
            k = kHi
            m = row[k] & (~0 >> UInt64(63 - (hi & 63)))
            while m == 0 { k -= 1; m = row[k] }
            xl = k * 64 + 63 - m.leadingZeroBitCount
            }
            var root = root
            var j = qIds[xf]
            let jl = qIds[xl]
            while true {
                root = union(root, j)
                if j == jl { return root }
                j += 1
            }
        }
        /// Joins run j's set to the set of root `root`; returns the joint root (the smaller).
        @inline(__always) func union(_ root: Int32, _ j: Int32) -> Int32 {
            let rj = find(j)
            if rj < root { pp[Int(root)] = rj; return rj }
            if root < rj { pp[Int(rj)] = root }
            return root
        }

        // Scan and link each slab's rows in order (a row's neighbours come before it), slabs in
        // parallel: unions inside a slab touch only its runs.
        if isBool {
            let tree = l1 == 3 && nz > 1
            let wSame = Int(sameY), wPrev = Int(prevPlaneSameY), wOther = prevPlaneOtherY.map(Int.init)
            Parallel.forRanges(slabCount) { range in
                let ring = UnsafeMutablePointer<Int32>.allocate(capacity: ringRows * stride)
                defer { ring.deallocate() }
                @inline(__always) func idRow(_ r: Int) -> UnsafeMutablePointer<Int32> { ring + (r % ringRows) * stride }
                for s in range {
                    let rr = slabRows(s)
                    let firstPlane = rr.lowerBound / ny
                    var next = rr.lowerBound * perRow
                    for r in rr {
                        rsp[r] = next
                        next = scanBits(r, next, idRow(r))
                        rep[r] = next
                        let z = r / ny, y = r % ny
                        let up = y > 0 && r > rr.lowerBound, prev = nz > 1 && z > firstPlane   // seams link the slab's first unit
                        let p = r - ny
                        // Id rows of the neighbours (ring slots; unused ones point anywhere valid).
                        let idUp = idRow(max(r - 1, 0)), idPrev = idRow(max(p, 0))
                        let idPrevUp = idRow(max(p - 1, 0)), idPrevDown = idRow(max(p + 1, 0))
                        for i in rsp[r]..<next {
                            let a = Int(a0p[i]), b = Int(a1p[i])
                            var root = Int32(truncatingIfNeeded: i)
                            if tree {
                                // A covering run is the one at a: it alone is joined there.
                                let cUp = up && covers(r - 1, a, b)
                                if cUp { root = union(root, idUp[a + 1]) } else if up { root = linkRun(root, a, b, r - 1, 1, idUp) }
                                if prev {
                                    let cPrev = covers(p, a, b)
                                    if !cUp { root = cPrev ? union(root, idPrev[a + 1]) : linkRun(root, a, b, p, 1, idPrev) }
                                    if up && !cUp && !cPrev { root = linkRun(root, a, b, p - 1, 1, idPrevUp) }
                                    if y < ny - 1 && !cPrev { root = linkRun(root, a, b, p + 1, 1, idPrevDown) }
                                }
                            } else {
                                if up { root = linkRun(root, a, b, r - 1, wSame, idUp) }
                                if prev {
                                    root = linkRun(root, a, b, p, wPrev, idPrev)
                                    if let w = wOther {
                                        if up { root = linkRun(root, a, b, p - 1, w, idPrevUp) }
                                        if y < ny - 1 { root = linkRun(root, a, b, p + 1, w, idPrevDown) }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        } else {
        Parallel.forRanges(slabCount) { range in
            for s in range {
                let rr = slabRows(s)
                var next = rr.lowerBound * perRow
                for r in rr {
                    rsp[r] = next
                    next = scanRow(r, next)
                    rep[r] = next
                    linkRow(r, within: rr)
                }
            }
        }
        }
        func idRange(_ s: Int) -> Range<Int> { let rr = slabRows(s); return rsp[rr.lowerBound]..<rep[rr.upperBound - 1] }
        // Seams, sequentially: the first unit of each slab against the slab before (masks: from
        // the earlier unit's ids, rebuilt from its runs).
        if isBool {
            let prevRows = nz > 1 ? ny : 1
            let seamIds = UnsafeMutablePointer<Int32>.allocate(capacity: prevRows * stride)
            defer { seamIds.deallocate() }
            let wSame = Int(sameY), wPrev = Int(prevPlaneSameY), wOther = prevPlaneOtherY.map(Int.init)
            for s in 1..<max(1, slabCount) {
                let first = slabRows(s).lowerBound, lo = first - prevRows
                for q in lo..<first {
                    for i in rsp[q]..<rep[q] { writeIds(seamIds + (q - lo) * stride, Int(a0p[i]), Int(a1p[i]), Int32(truncatingIfNeeded: i)) }
                }
                for r in first..<(first + unitRows) {
                    let y = r % ny
                    for i in rsp[r]..<rep[r] {
                        let a = Int(a0p[i]), b = Int(a1p[i])
                        var root = find(Int32(truncatingIfNeeded: i))
                        if nz > 1 {
                            let p = r - ny
                            root = linkRun(root, a, b, p, wPrev, seamIds + (p - lo) * stride)
                            if let w = wOther {
                                if y > 0 { root = linkRun(root, a, b, p - 1, w, seamIds + (p - 1 - lo) * stride) }
                                if y < ny - 1 { root = linkRun(root, a, b, p + 1, w, seamIds + (p + 1 - lo) * stride) }
                            }
                        } else {
                            root = linkRun(root, a, b, r - 1, wSame, seamIds)
                        }
                    }
                }
            }
        } else {
        for s in 1..<max(1, slabCount) {
            let rr = slabRows(s), prev = slabRows(s - 1)
            for r in rr.lowerBound..<(rr.lowerBound + unitRows) { linkRow(r, within: prev) }
        }
        }
        // Final ids in run order, slabs in parallel. Roots are the smallest runs of their sets
        // and a non-root points below itself, so in one pass over a slab's runs in order each
        // entry of `parent` becomes its root's slab-local number: a root takes the next one, a
        // run whose parent lies in the slab copies its parent's entry. A parent in an earlier
        // slab is noted as a crossing (−k) and resolved afterwards, slab by slab, from that
        // parent's entry, which by then holds a number or an already resolved crossing.
        var ids = [SlabIds](repeating: SlabIds(), count: slabCount)
        ids.withUnsafeMutableBufferPointer { ib in
            let out = SharedPointer(ib.baseAddress!)
            Parallel.forRanges(slabCount) { range in
                for s in range {
                    let idr = idRange(s), lo = idr.lowerBound
                    var o = SlabIds()
                    for i in idr {
                        let p = Int(pp[i]), len = Int(a1p[i] &- a0p[i])
                        let v: Int32
                        if p == i {
                            o.count += 1; v = o.count
                            if wantLabels { o.sizes.append(len) }
                        } else if p >= lo {
                            v = pp[p]
                            if wantLabels { if v > 0 { o.sizes[Int(v) - 1] += len } else { o.crossSize[Int(-v) - 1] += len } }
                        } else {
                            o.crossParent.append(Int32(truncatingIfNeeded: p)); o.crossSize.append(len)
                            v = -Int32(o.crossParent.count)
                        }
                        pp[i] = v
                    }
                    out[s] = o
                }
            }
        }
        var base = [Int32](repeating: 0, count: slabCount)
        var count: Int32 = 0
        for s in 0..<slabCount { base[s] = count; count += ids[s].count }
        var sizes = [Int](repeating: 0, count: wantLabels ? Int(count) : 0)
        var owner = 0   // the slab of the crossing's parent
        for s in 0..<slabCount {
            if wantLabels { for (k, v) in ids[s].sizes.enumerated() { sizes[Int(base[s]) + k] = v } }
            ids[s].crossLabel = ids[s].crossParent.map { p in
                while owner > 0 && idRange(owner).lowerBound > Int(p) { owner -= 1 }
                while owner + 1 < s && idRange(owner + 1).lowerBound <= Int(p) { owner += 1 }
                let v = parent[Int(p)]
                return v > 0 ? v + base[owner] : ids[owner].crossLabel[Int(-v) - 1]
            }
            if wantLabels { for (k, l) in ids[s].crossLabel.enumerated() { sizes[Int(l) - 1] += ids[s].crossSize[k] } }
        }
        guard wantLabels else {
            return ComponentLabeling(labels: Grid(unchecked: shape, spacing: spacing, storage: []), count: Int(count), sizes: [])
        }
        // Per row: the label base of its slab and where its slab's crossings start in `cross`.
        let rowBase = UnsafeMutablePointer<Int32>.allocate(capacity: rows)
        let rowCross = UnsafeMutablePointer<Int>.allocate(capacity: rows)
        let cross = UnsafeMutablePointer<Int32>.allocate(capacity: max(1, ids.reduce(0) { $0 + $1.crossLabel.count }))
        defer { rowBase.deallocate(); rowCross.deallocate(); cross.deallocate() }
        var crossAt = 0
        for s in 0..<slabCount {
            for r in slabRows(s) { rowBase[r] = base[s]; rowCross[r] = crossAt - 1 }
            for l in ids[s].crossLabel { cross[crossAt] = l; crossAt += 1 }
        }
        let rbp = SharedPointer(rowBase), rcp = SharedPointer(rowCross), cp = SharedPointer(cross)
        // Every element is written exactly once (gaps 0, runs their label), rows in parallel.
        let labels = [Int32](unsafeUninitializedCapacity: n) { lab, initialized in
            let lp = SharedPointer(lab.baseAddress!)
            adviseHugePages(lab.baseAddress!, n)
            Parallel.forRanges(rows, grain: max(1, 8192 / max(1, nx))) { range in
                // Each stretch is filled eight at a time, overshooting into the next stretch
                // (rewritten after) but never past the row's end.
                @inline(__always) func fill(_ row: UnsafeMutableRawPointer, _ from: Int, _ to: Int, _ v: Int32) {
                    // Most stretches are short: one 16-wide store away from the row's end.
                    if to &- from <= 16 && from &+ 16 <= nx {
                        row.storeBytes(of: SIMD16<Int32>(repeating: v), toByteOffset: from * 4, as: SIMD16<Int32>.self)
                        return
                    }
                    var x = from
                    let v8 = SIMD8<Int32>(repeating: v)
                    while x + 8 <= nx && x < to { row.storeBytes(of: v8, toByteOffset: x * 4, as: SIMD8<Int32>.self); x += 8 }
                    while x < to { row.storeBytes(of: v, toByteOffset: x * 4, as: Int32.self); x += 1 }
                }
                for r in range {
                    let row = UnsafeMutableRawPointer(lp.base + r * nx)
                    let b = rbp[r], c = rcp[r]
                    var x = 0
                    for i in rsp[r]..<rep[r] {
                        let start = Int(a0p[i]), end = Int(a1p[i])
                        fill(row, x, start, 0)
                        let v = pp[i]
                        fill(row, start, end, v > 0 ? v &+ b : cp[c - Int(v)])
                        x = end
                    }
                    fill(row, x, nx, 0)
                }
            }
            initialized = n
        }
        return ComponentLabeling(labels: Grid(unchecked: shape, spacing: spacing, storage: labels), count: Int(count), sizes: sizes)
    }
}
