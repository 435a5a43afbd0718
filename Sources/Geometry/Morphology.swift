/// A binary structuring element, centred, in index units.
public enum StructuringElement: Sendable, Equatable {
    /// Face neighbours and the centre: SciPy's default `generate_binary_structure(rank, 1)`.
    case cross
    /// The (2r+1)^rank box; `box(radius: 1)` is the full 3×3(×3) neighbourhood.
    case box(radius: Int)
    /// {o : ‖o‖₂ ≤ r}, as skimage `disk`/`ball`.
    case ball(radius: Double)
}

/// Binary erosion, dilation, opening and closing (SciPy `binary_*` semantics: outside the grid
/// is `borderValue`, false by default, so erosion eats foreground at the border).
public enum Morphology {
    public static func erode(_ mask: Grid<Bool>, _ element: StructuringElement = .cross,
                             borderValue: Bool = false) throws -> Grid<Bool> {
        switch element {
        case .cross:
            return neighbourhoodAll(mask, connectivity: .minimal(rank: mask.rank), borderValue: borderValue)
        case .box(let r):
            guard r >= 0 else { throw GeometryError.invalidArgument("box radius must be ≥ 0, got \(r)") }
            return boxFilter(mask, radius: r, erode: true, borderValue: borderValue)
        case .ball(let r):
            guard r >= 0, r.isFinite else { throw GeometryError.invalidArgument("ball radius must be ≥ 0, got \(r)") }
            let d2 = try DistanceTransform.squaredEuclidean(mask, spacing: ones(mask.rank), to: .background)
            var out = mask
            let shape = mask.shape, strides = mask.strides
            for i in 0..<mask.count where mask.storage[i] {
                var keep = d2.storage[i] > r * r
                if keep && !borderValue {
                    // The nearest outside point is straight across the nearest border.
                    var rem = i
                    for a in 0..<shape.count {
                        let idx = rem / strides[a]
                        rem -= idx * strides[a]
                        if Double(min(idx + 1, shape[a] - idx)) <= r { keep = false; break }
                    }
                }
                out.storage[i] = keep
            }
            return out
        }
    }

    public static func dilate(_ mask: Grid<Bool>, _ element: StructuringElement = .cross) throws -> Grid<Bool> {
        switch element {
        case .cross:
            // Dilation is the complement of the erosion of the complement (symmetric element).
            let inv = mask.map { !$0 }
            return neighbourhoodAll(inv, connectivity: .minimal(rank: mask.rank), borderValue: true).map { !$0 }
        case .box(let r):
            guard r >= 0 else { throw GeometryError.invalidArgument("box radius must be ≥ 0, got \(r)") }
            return boxFilter(mask, radius: r, erode: false, borderValue: false)
        case .ball(let r):
            guard r >= 0, r.isFinite else { throw GeometryError.invalidArgument("ball radius must be ≥ 0, got \(r)") }
            guard mask.storage.contains(true) else { return mask }
            let d2 = try DistanceTransform.squaredEuclidean(mask, spacing: ones(mask.rank), to: .foreground)
            return d2.map { $0 <= r * r }
        }
    }

    public static func open(_ mask: Grid<Bool>, _ element: StructuringElement = .cross) throws -> Grid<Bool> {
        try dilate(erode(mask, element), element)
    }

    public static func close(_ mask: Grid<Bool>, _ element: StructuringElement = .cross) throws -> Grid<Bool> {
        // SciPy's binary_closing erodes with border_value 0 too, which can open the border;
        // eroding with border 1 keeps closing extensive (A ⊆ close(A)).
        try erode(dilate(mask, element), element, borderValue: true)
    }

    // MARK: - Internals

    static func ones(_ rank: Int) -> [Double] { [Double](repeating: 1, count: rank) }

    /// True where the element and all its neighbours (in `connectivity`) are true.
    static func neighbourhoodAll(_ mask: Grid<Bool>, connectivity: Connectivity, borderValue: Bool) -> Grid<Bool> {
        let (nz, ny, nx) = mask.rank == 3 ? (mask.shape[0], mask.shape[1], mask.shape[2]) : (1, mask.shape[0], mask.shape[1])
        var out = mask
        var offsets: [(Int, Int, Int)] = []
        for dz in -1...1 { for dy in -1...1 { for dx in -1...1 {
            if mask.rank == 2 && dz != 0 { continue }
            if connectivity.contains((dz, dy, dx)) { offsets.append((dz, dy, dx)) }
        } } }
        let deltas = offsets.map { ($0.0 * ny + $0.1) * nx + $0.2 }
        mask.storage.withUnsafeBufferPointer { m in
            out.storage.withUnsafeMutableBufferPointer { o in
                let mp = m.baseAddress!, op = SharedPointer(o.baseAddress!)
                Parallel.forRanges(nz * ny, grain: max(1, 16384 / max(1, nx))) { rows in
                    for row in rows {
                        let z = row / ny, y = row % ny
                        let interiorRow = y > 0 && y < ny - 1 && (mask.rank == 2 || (z > 0 && z < nz - 1))
                        for x in 0..<nx {
                            let i = row * nx + x
                            guard mp[i] else { continue }
                            var keep = true
                            if interiorRow && x > 0 && x < nx - 1 {
                                for d in deltas where !mp[i + d] { keep = false; break }
                            } else {
                                for (k, o) in offsets.enumerated() {
                                    let zz = z + o.0, yy = y + o.1, xx = x + o.2
                                    let inside = zz >= 0 && zz < nz && yy >= 0 && yy < ny && xx >= 0 && xx < nx
                                    if inside ? !mp[i + deltas[k]] : !borderValue { keep = false; break }
                                }
                            }
                            op[i] = keep
                        }
                    }
                }
            }
        }
        return out
    }

    /// Separable box erosion/dilation by running counts along each axis.
    static func boxFilter(_ mask: Grid<Bool>, radius r: Int, erode: Bool, borderValue: Bool) -> Grid<Bool> {
        guard r > 0, mask.count > 0 else { return mask }
        var cur = mask
        let shape = mask.shape, strides = mask.strides
        for axis in 0..<shape.count {
            let n = shape[axis], stride = strides[axis]
            let lines = mask.count / n
            var next = cur
            cur.storage.withUnsafeBufferPointer { src in
                next.storage.withUnsafeMutableBufferPointer { dst in
                    let sp = src.baseAddress!, dp = SharedPointer(dst.baseAddress!)
                    Parallel.forRanges(lines, grain: max(1, 8192 / n)) { range in
                        for line in range {
                            let outer = line / stride, inner = line % stride
                            let base = outer * n * stride + inner
                            // Count of "hits" (false for erosion, true for dilation) inside the window.
                            let hit = !erode
                            let outsideHits = (erode && !borderValue) ? 1 : 0
                            var count = 0
                            for k in -r...r {
                                if k < 0 || k >= n { count += outsideHits } else if sp[base + k * stride] == hit { count += 1 }
                            }
                            for q in 0..<n {
                                dp[base + q * stride] = erode ? count == 0 : count > 0
                                let leaving = q - r, entering = q + r + 1
                                if leaving < 0 { count -= outsideHits } else if sp[base + leaving * stride] == hit { count -= 1 }
                                if entering >= n { count += outsideHits } else if sp[base + entering * stride] == hit { count += 1 }
                            }
                        }
                    }
                }
            }
            cur = next
        }
        return cur
    }
}
