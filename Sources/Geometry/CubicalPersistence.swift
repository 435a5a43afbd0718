/// One bar of a 0-dimensional persistence diagram, with the pixels that create and end it.
public struct PersistenceBar: Sendable, Equatable {
    /// Filtration value at which the component appears (its minimum).
    public var birth: Double
    /// Filtration value at which it merges into an older component; +∞ for the essential bar.
    public var death: Double
    /// Storage index of the pixel that creates the component (the component's minimum).
    public var birthPixel: Int
    /// Storage index of the pixel whose insertion merged this (younger) component into an
    /// older one. For the essential bar: the last pixel of the filtration (a global maximum).
    public var deathPixel: Int

    public init(birth: Double, death: Double, birthPixel: Int, deathPixel: Int) {
        self.birth = birth
        self.death = death
        self.birthPixel = birthPixel
        self.deathPixel = deathPixel
    }

    public var persistence: Double { death - birth }
    public var isEssential: Bool { death == .infinity }
}

/// The 0-dimensional persistence of a 2D sublevel filtration.
public struct PersistenceDiagram: Sendable, Equatable {
    /// Finite bars with positive persistence, in the order they die (filtration order).
    public var bars: [PersistenceBar]
    /// The component that never dies (death = +∞); nil only for an empty grid.
    public var essential: PersistenceBar?

    /// Finite bars, then the essential one.
    public var allBars: [PersistenceBar] { bars + (essential.map { [$0] } ?? []) }
}

/// 0-dimensional persistent homology of a 2D image, pixels as top-dimensional cells.
///
/// This is what GUDHI's `CubicalComplex(top_dimensional_cells=f).persistence()` reports in
/// dimension 0: in that complex every vertex and edge enters with the smallest value of the
/// pixels around it, so the sublevel set at t is the union of *closed* pixels with f ≤ t and
/// two pixels that share only a corner are connected — 8-connectivity on pixels. Components
/// are tracked by union–find; when a pixel joins several, the elder rule keeps the one born
/// first (smaller value, then smaller index: the filtration order) and ends the others.
/// Bars of zero persistence (ties) are left out, as GUDHI does with its default
/// `min_persistence = 0` (it keeps pairs whose persistence is strictly greater).
public enum CubicalPersistence {
    /// The 0-dimensional diagram of the sublevel filtration of `values` (a 2D grid).
    public static func diagram(_ values: Grid<Double>) throws -> PersistenceDiagram {
        guard values.rank == 2 else {
            throw GeometryError.invalidShape("cubical persistence is implemented for 2D grids, got shape \(values.shape)")
        }
        return try values.storage.withUnsafeBufferPointer { try diagram($0, height: values.shape[0], width: values.shape[1]) }
    }

    public static func diagram(_ values: Grid<Float>) throws -> PersistenceDiagram {
        try diagram(values.map { Double($0) })
    }

    /// The same on a row-major buffer of `height × width` values (no grid wrapping needed).
    public static func diagram(_ f: UnsafeBufferPointer<Double>, height: Int, width: Int) throws -> PersistenceDiagram {
        let n = height * width
        guard height >= 0, width >= 0, f.count == n else {
            throw GeometryError.invalidShape("\(f.count) values do not fill a \(height)×\(width) grid")
        }
        guard n > 0 else { return PersistenceDiagram(bars: [], essential: nil) }
        if let bad = f.firstIndex(where: { !$0.isFinite }) {
            throw GeometryError.invalidArgument("cubical persistence needs finite values, got \(f[bad]) at index \(bad)")
        }
        // Filtration order: by value, ties by index (so "elder" is a strict total order).
        let order = (0..<n).sorted { f[$0] < f[$1] || (f[$0] == f[$1] && $0 < $1) }
        var position = [Int](repeating: 0, count: n)
        for (k, i) in order.enumerated() { position[i] = k }
        // parent[i] = -1 while pixel i is not yet in the filtration. Roots are always the birth
        // pixel of their component, because the younger root is the one attached.
        var parent = [Int](repeating: -1, count: n)
        var bars: [PersistenceBar] = []

        parent.withUnsafeMutableBufferPointer { parent in
            position.withUnsafeBufferPointer { position in
                @inline(__always) func find(_ x: Int) -> Int {
                    var x = x
                    while parent[x] != x {
                        parent[x] = parent[parent[x]]  // path halving
                        x = parent[x]
                    }
                    return x
                }
                for p in order {
                    parent[p] = p
                    let y = p / width, x = p - y * width
                    for dy in -1...1 {
                        let yy = y + dy
                        if yy < 0 || yy >= height { continue }
                        for dx in -1...1 {
                            let xx = x + dx
                            if (dy == 0 && dx == 0) || xx < 0 || xx >= width { continue }
                            let q = yy * width + xx
                            if parent[q] < 0 { continue }
                            let rp = find(p), rq = find(q)
                            if rp == rq { continue }
                            let (elder, younger) = position[rp] < position[rq] ? (rp, rq) : (rq, rp)
                            parent[younger] = elder
                            if f[p] > f[younger] {
                                bars.append(PersistenceBar(birth: f[younger], death: f[p], birthPixel: younger, deathPixel: p))
                            }
                        }
                    }
                }
            }
        }
        let first = order[0], last = order[n - 1]
        return PersistenceDiagram(bars: bars,
                                  essential: PersistenceBar(birth: f[first], death: .infinity, birthPixel: first, deathPixel: last))
    }
}
