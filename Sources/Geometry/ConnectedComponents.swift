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
        return mask.storage.withUnsafeBufferPointer { keys in
            labelCore(keys, background: false, shape: mask.shape, spacing: mask.spacing, connectivity: connectivity,
                      wantLabels: true)
        }
    }

    /// Labels a multi-label map: neighbours join only when they hold the same non-zero value
    /// (cc3d's multi-label semantics).
    public static func label<T: BinaryInteger & Sendable>(_ map: Grid<T>, connectivity: Connectivity) throws -> ComponentLabeling {
        try connectivity.validate(rank: map.rank)
        return map.storage.withUnsafeBufferPointer { keys in
            labelCore(keys, background: 0, shape: map.shape, spacing: map.spacing, connectivity: connectivity,
                      wantLabels: true)
        }
    }

    /// The number of components, without building the label map.
    public static func count(_ mask: Grid<Bool>, connectivity: Connectivity) throws -> Int {
        try connectivity.validate(rank: mask.rank)
        return mask.storage.withUnsafeBufferPointer { keys in
            labelCore(keys, background: false, shape: mask.shape, spacing: mask.spacing, connectivity: connectivity,
                      wantLabels: false).count
        }
    }

    // MARK: - Core

    /// Runs of equal non-background keys along x, per row, for one slab of rows.
    struct SlabRuns {
        var rowStart: [Int32] = [0]   // runs of the slab's k-th row are rowStart[k]..<rowStart[k+1]
        var x0: [Int32] = []
        var x1: [Int32] = []          // exclusive
    }

    /// Run-based union–find: each maximal run of equal keys along x is one provisional label;
    /// runs join runs of the rows they touch (same plane y−1; previous plane y−1, y, y+1),
    /// with an overlap widened by one voxel where the connectivity includes diagonal steps.
    /// Slabs of rows are labelled in parallel and merged at their seams. Runs are numbered in
    /// raster order and every set keeps its smallest run as root, so final labels follow the
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
        let sameY: Int = l1 >= 2 ? 1 : 0                         // (dz, dy) = (0, −1)
        let prevPlaneSameY: Int = l1 >= 2 ? 1 : 0                // (−1, 0)
        let prevPlaneOtherY: Int? = l1 == 3 ? 1 : (l1 == 2 ? 0 : nil) // (−1, ±1)
        let kp = keys.baseAddress!

        // Slabs are whole planes in 3D, rows in 2D, so a seam only links a slab to the one before.
        let unitRows = nz > 1 ? ny : 1
        let units = rows / unitRows
        let slabCount = min(units, 16)
        func slabRows(_ s: Int) -> Range<Int> { (units * s / slabCount * unitRows)..<(units * (s + 1) / slabCount * unitRows) }

        // Phase 1: runs per slab.
        var slabs = [SlabRuns](repeating: SlabRuns(), count: slabCount)
        slabs.withUnsafeMutableBufferPointer { sb in
            let sp = SharedPointer(sb.baseAddress!)
            Parallel.forRanges(slabCount) { range in
                for s in range {
                    var runs = SlabRuns()
                    let rr = slabRows(s)
                    runs.rowStart.reserveCapacity(rr.count + 1)
                    let isBool = K.self == Bool.self
                    let bytes = UnsafeRawPointer(kp)
                    for r in rr {
                        let base = r * nx
                        var x = 0
                        if isBool {
                            // Booleans are bytes 0/1: XOR each 8-byte word with itself shifted by one
                            // byte, so that set bits mark the run boundaries inside it.
                            var inRun = bytes.load(fromByteOffset: base, as: UInt8.self) != 0
                            var start = 0
                            while x + 9 <= nx {
                                let w = bytes.loadUnaligned(fromByteOffset: base + x, as: UInt64.self)
                                let next = UInt64(bytes.load(fromByteOffset: base + x + 8, as: UInt8.self))
                                var d = w ^ ((w >> 8) | (next << 56))
                                while d != 0 {
                                    let edge = x + d.trailingZeroBitCount / 8 + 1
                                    d &= d - 1
                                    if inRun { runs.x0.append(Int32(start)); runs.x1.append(Int32(edge)) } else { start = edge }
                                    inRun.toggle()
                                }
                                x += 8
                            }
                            while x + 1 < nx {
                                if bytes.load(fromByteOffset: base + x, as: UInt8.self) != bytes.load(fromByteOffset: base + x + 1, as: UInt8.self) {
                                    if inRun { runs.x0.append(Int32(start)); runs.x1.append(Int32(x + 1)) } else { start = x + 1 }
                                    inRun.toggle()
                                }
                                x += 1
                            }
                            if inRun { runs.x0.append(Int32(start)); runs.x1.append(Int32(nx)) }
                            runs.rowStart.append(Int32(runs.x0.count))
                            continue
                        }
                        while x < nx {
                            let k = kp[base + x]
                            if k == background { x += 1; continue }
                            let start = x
                            x += 1
                            while x < nx && kp[base + x] == k { x += 1 }
                            runs.x0.append(Int32(start))
                            runs.x1.append(Int32(x))
                        }
                        runs.rowStart.append(Int32(runs.x0.count))
                    }
                    sp[s] = runs
                }
            }
        }
        // Flatten: global run numbers in raster order, rows indexing into them.
        var rowStart = [Int](repeating: 0, count: rows + 1)
        var x0 = [Int32](), x1 = [Int32]()
        x0.reserveCapacity(slabs.reduce(0) { $0 + $1.x0.count })
        x1.reserveCapacity(x0.capacity)
        for s in 0..<slabCount {
            let runs = slabs[s], rr = slabRows(s), base = x0.count
            for (k, r) in rr.enumerated() { rowStart[r + 1] = base + Int(runs.rowStart[k + 1]) }
            x0 += runs.x0
            x1 += runs.x1
        }
        slabs = []
        let totalRuns = x0.count
        let parent = UnsafeMutablePointer<Int32>.allocate(capacity: totalRuns + 1)
        defer { parent.deallocate() }
        let shared = SharedPointer(parent)
        for i in 0..<totalRuns { parent[i] = Int32(i) }
        let isBool = K.self == Bool.self

        var count: Int32 = 0
        rowStart.withUnsafeBufferPointer { rsb in
        x0.withUnsafeBufferPointer { x0b in
        x1.withUnsafeBufferPointer { x1b in
            let rs = rsb.baseAddress!, a0p = x0b.baseAddress!, a1p = x1b.baseAddress!
            // Unions of the runs of row r with those of its neighbour rows (up to four) whose
            // x-ranges overlap once widened by one voxel where diagonal steps connect, when their
            // keys agree. Runs of different keys may touch, so for each run of row r every run of
            // a neighbour row that can reach it is scanned.
            func linkRow(_ r: Int, within allowed: Range<Int>) {
                let z = r / ny, y = r % ny
                var qs: (Int, Int, Int, Int) = (-1, -1, -1, -1)
                var ws: (Int32, Int32, Int32, Int32) = (0, 0, 0, 0)
                var m = 0
                func add(_ q: Int, _ w: Int) {
                    guard allowed.contains(q), rs[q] < rs[q + 1] else { return }
                    switch m {
                    case 0: qs.0 = q; ws.0 = Int32(w)
                    case 1: qs.1 = q; ws.1 = Int32(w)
                    case 2: qs.2 = q; ws.2 = Int32(w)
                    default: qs.3 = q; ws.3 = Int32(w)
                    }
                    m += 1
                }
                if y > 0 { add(r - 1, sameY) }
                if z > 0 {
                    let p = r - ny
                    add(p, prevPlaneSameY)
                    if let w = prevPlaneOtherY {
                        if y > 0 { add(p - 1, w) }
                        if y < ny - 1 { add(p + 1, w) }
                    }
                }
                if m == 0 { return }
                var jStart: (Int, Int, Int, Int) = (rs[max(qs.0, 0)], rs[max(qs.1, 0)], rs[max(qs.2, 0)], rs[max(qs.3, 0)])
                let baseA = r * nx
                for i in rs[r]..<rs[r + 1] {
                    let a0 = a0p[i], a1 = a1p[i]
                    var root: Int32 = -1 // root of run i, found once
                    for k in 0..<m {
                        let q = k == 0 ? qs.0 : k == 1 ? qs.1 : k == 2 ? qs.2 : qs.3
                        let w = k == 0 ? ws.0 : k == 1 ? ws.1 : k == 2 ? ws.2 : ws.3
                        var j = k == 0 ? jStart.0 : k == 1 ? jStart.1 : k == 2 ? jStart.2 : jStart.3
                        let jEnd = rs[q + 1]
                        while j < jEnd && a1p[j] + w <= a0 { j += 1 }
                        switch k {
                        case 0: jStart.0 = j
                        case 1: jStart.1 = j
                        case 2: jStart.2 = j
                        default: jStart.3 = j
                        }
                        let baseB = q * nx
                        while j < jEnd && a0p[j] < a1 + w {
                            if isBool || kp[baseA + Int(a0)] == kp[baseB + Int(a0p[j])] {
                                if root < 0 { root = find(shared, Int32(i)) }
                                let other = find(shared, Int32(j))
                                if other < root { shared[Int(root)] = other; root = other } else if root < other { shared[Int(other)] = root }
                            }
                            j += 1
                        }
                    }
                }
            }
            // Unions inside each slab touch only that slab's runs, so slabs run in parallel.
            Parallel.forRanges(slabCount) { range in
                for s in range {
                    let rr = slabRows(s)
                    for r in rr { linkRow(r, within: rr) }
                }
            }
            // Seams, sequentially: the first unit of each slab against the slab before.
            for s in 1..<max(1, slabCount) {
                let rr = slabRows(s), prev = slabRows(s - 1)
                for r in rr.lowerBound..<(rr.lowerBound + unitRows) { linkRow(r, within: prev) }
            }
        } } }
        // Final ids in run order. Roots are the smallest runs of their sets; a non-root points
        // below itself, to an entry that already holds its final id.
        for i in 0..<totalRuns {
            let p = Int(parent[i])
            if p == i { count += 1; parent[i] = count } else { parent[i] = parent[p] }
        }
        guard wantLabels else {
            return ComponentLabeling(labels: Grid(unchecked: shape, spacing: spacing, storage: []), count: Int(count), sizes: [])
        }
        var sizes = [Int](repeating: 0, count: Int(count))
        // Every element is written exactly once (gaps 0, runs their label), rows in parallel.
        let labels = [Int32](unsafeUninitializedCapacity: n) { lab, initialized in
            let lp = SharedPointer(lab.baseAddress!)
            rowStart.withUnsafeBufferPointer { rs in
            x0.withUnsafeBufferPointer { a0 in
            x1.withUnsafeBufferPointer { a1 in
                Parallel.forRanges(rows, grain: max(1, 8192 / max(1, nx))) { range in
                    for r in range {
                        let base = r * nx
                        var x = 0
                        for i in rs[r]..<rs[r + 1] {
                            let l = shared[i]
                            let start = Int(a0[i]), end = Int(a1[i])
                            while x < start { lp[base + x] = 0; x += 1 }
                            while x < end { lp[base + x] = l; x += 1 }
                        }
                        while x < nx { lp[base + x] = 0; x += 1 }
                    }
                }
            } } }
            initialized = n
        }
        for i in 0..<totalRuns { sizes[Int(parent[i]) - 1] += Int(x1[i] - x0[i]) }
        return ComponentLabeling(labels: Grid(unchecked: shape, spacing: spacing, storage: labels), count: Int(count), sizes: sizes)
    }

    @inline(__always)
    static func find(_ parent: SharedPointer<Int32>, _ a: Int32) -> Int32 {
        var r = a
        while parent[Int(r)] != r { r = parent[Int(r)] }
        var c = a
        while parent[Int(c)] != r { let nextC = parent[Int(c)]; parent[Int(c)] = r; c = nextC }
        return r
    }

    @inline(__always)
    static func union(_ parent: SharedPointer<Int32>, _ a: Int32, _ b: Int32) {
        let ra = find(parent, a), rb = find(parent, b)
        if ra < rb { parent[Int(rb)] = ra } else if rb < ra { parent[Int(ra)] = rb }
    }
}
