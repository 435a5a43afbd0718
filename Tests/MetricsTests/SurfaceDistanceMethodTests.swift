import XCTest
import Geometry
@testable import Metrics

/// The nearest-point search must give the EDT path's distances (and a brute-force minimum over
/// the surface elements), element by element, on random and adversarial masks.
final class SurfaceDistanceMethodTests: XCTestCase {
    /// Random blobs: a few random boxes and single elements, so surfaces are ragged and disjoint.
    static func randomMask(_ shape: [Int], _ rng: inout SeededGenerator, boxes: Int, dots: Int) -> Grid<Bool> {
        var g = Grid(shape: shape, repeating: false)
        let strides = g.strides
        func set(_ idx: [Int]) { g.storage[zip(idx, strides).map { $0 * $1 }.reduce(0, +)] = true }
        for _ in 0..<boxes {
            let lo = shape.map { Int.random(in: 0..<$0, using: &rng) }
            let ext = shape.map { Int.random(in: 1...max(1, $0 / 3), using: &rng) }
            var idx = lo
            func fill(_ a: Int) {
                if a == shape.count { set(idx); return }
                for i in lo[a]..<min(shape[a], lo[a] + ext[a]) { idx[a] = i; fill(a + 1) }
            }
            fill(0)
        }
        for _ in 0..<dots { set(shape.map { Int.random(in: 0..<$0, using: &rng) }) }
        return g
    }

    /// Brute-force distances from each surface element of `from` to the nearest of `to`, with the
    /// EDT's per-axis terms and summation order.
    static func bruteForce(from: Grid<Bool>, to: Grid<Bool>, spacing sp: [Double]) -> [Double] {
        func coords(_ g: Grid<Bool>) -> [[Int]] {
            let strides = g.strides
            return g.storage.indices.filter { g.storage[$0] }.map { i in (0..<g.rank).map { (i / strides[$0]) % g.shape[$0] } }
        }
        let a = coords(from), b = coords(to)
        func term(_ axis: Int, _ d: Int) -> Double {
            let dd = Double(abs(d))
            if axis == sp.count - 1 { let v = dd * sp[axis]; return v * v }
            return sp[axis] * sp[axis] * dd * dd
        }
        return a.map { p in
            b.map { t -> Double in
                var s = term(sp.count - 1, p[sp.count - 1] - t[sp.count - 1])
                for axis in stride(from: sp.count - 2, through: 0, by: -1) { s = term(axis, p[axis] - t[axis]) + s }
                return s
            }.min()!.squareRoot()
        }
    }

    func assertSame(_ p: Grid<Bool>, _ g: Grid<Bool>, spacing: [Double], file: StaticString = #filePath, line: UInt = #line) throws {
        try assertSurfaceDistancesAgree(p, g, spacing: spacing, file: file, line: line)
    }

    func testRandom2D() throws {
        var rng = SeededGenerator(seed: 16)
        for trial in 0..<12 {
            let shape = [Int.random(in: 8...48, using: &rng), Int.random(in: 8...48, using: &rng)]
            let p = Self.randomMask(shape, &rng, boxes: trial % 4, dots: trial % 3)
            let g = Self.randomMask(shape, &rng, boxes: 1 + trial % 3, dots: trial % 2)
            for spacing in [[1.0, 1.0], [0.7, 2.3], [3.0, 0.45]] { try assertSame(p, g, spacing: spacing) }
        }
    }

    func testRandom3D() throws {
        var rng = SeededGenerator(seed: 3)
        for trial in 0..<8 {
            let shape = (0..<3).map { _ in Int.random(in: 4...20, using: &rng) }
            let p = Self.randomMask(shape, &rng, boxes: trial % 3, dots: trial % 4)
            let g = Self.randomMask(shape, &rng, boxes: 1 + trial % 2, dots: trial % 3)
            for spacing in [[1.0, 1.0, 1.0], [2.5, 0.8, 0.6], [0.3, 1.7, 1.1]] { try assertSame(p, g, spacing: spacing) }
        }
    }

    func testSinglePointsAndFarApartObjects() throws {
        var p = Grid(shape: [60, 90], repeating: false), g = p
        p[3, 2] = true
        g[57, 88] = true
        try assertSame(p, g, spacing: [1.3, 0.6])
        // Two disjoint boxes far apart, and a point against a box.
        for y in 2..<10 { for x in 2..<12 { p[y, x] = true } }
        for y in 45..<58 { for x in 70..<85 { g[y, x] = true } }
        try assertSame(p, g, spacing: [0.9, 2.1])
        var p3 = Grid(shape: [30, 12, 40], repeating: false), g3 = p3
        p3[1, 1, 1] = true
        g3[28, 10, 38] = true
        try assertSame(p3, g3, spacing: [2.0, 0.5, 0.75])
        for z in 0..<4 { for y in 0..<5 { for x in 0..<6 { p3[z, y, x] = true } } }
        for z in 20..<30 { for y in 6..<12 { for x in 30..<40 { g3[z, y, x] = true } } }
        try assertSame(p3, g3, spacing: [2.0, 0.5, 0.75])
        // Empty sides keep MONAI's conventions on every path.
        try assertSame(Grid(shape: [60, 90], repeating: false), g, spacing: [1, 1])
        try assertSame(p, Grid(shape: [60, 90], repeating: false), spacing: [1, 1])
    }

    func testAutomaticFallsBackWhenTheSearchIsCostly() throws {
        // Two big parallel surfaces far apart: the ring search exceeds its budget, the EDT answers.
        var p = Grid(shape: [40, 40, 40], repeating: false), g = p
        for z in 0..<40 { for y in 0..<40 { for x in 0..<3 { p[z, y, x] = true; g[z, y, 37 + x] = true } } }
        let sa = try Boundary.inner(p), sg = try Boundary.inner(g)
        let search = try NearestSurfacePoint(sg)
        XCTAssertNil(try search.squaredDistances(from: sa, workBudget: 6 * sg.count))
        XCTAssertNotNil(try search.squaredDistances(from: sa))
        try assertSame(p, g, spacing: [1, 1, 1])
    }
}

extension XCTestCase {
    /// Every method against the EDT path, and the nearest-point and EDT paths against a brute force.
    func assertSurfaceDistancesAgree(_ p: Grid<Bool>, _ g: Grid<Bool>, spacing: [Double], file: StaticString = #filePath, line: UInt = #line) throws {
        let edt = try SurfaceDistances(prediction: p, truth: g, spacing: spacing, method: .distanceTransform)
        for method in [SurfaceDistances.Method.nearestPoint, .automatic] {
            let nn = try SurfaceDistances(prediction: p, truth: g, spacing: spacing, method: method)
            for (x, y) in [(nn.predictionToTruth, edt.predictionToTruth), (nn.truthToPrediction, edt.truthToPrediction)] {
                XCTAssertEqual(x.count, y.count, file: file, line: line)
                for (u, v) in zip(x, y) where !(u == v || abs(u - v) <= 1e-12 * abs(v)) {
                    XCTFail("\(method): \(u) vs EDT \(v)", file: file, line: line)
                    return
                }
            }
        }
        // Independent check on the surfaces themselves (crop-free: the box only adds background).
        guard p.storage.contains(true) && g.storage.contains(true) else { return }
        let sa = try Boundary.inner(p), sg = try Boundary.inner(g)
        let brute = SurfaceDistanceMethodTests.bruteForce(from: sa, to: sg, spacing: spacing)
        let nn = try SurfaceDistances(prediction: p, truth: g, spacing: spacing, method: .nearestPoint)
        XCTAssertEqual(brute.count, nn.predictionToTruth.count, file: file, line: line)
        for (u, v) in zip(nn.predictionToTruth, brute) where !(u == v || abs(u - v) <= 1e-12 * abs(v)) {
            XCTFail("nearest point \(u) vs brute force \(v)", file: file, line: line)
            return
        }
        // The EDT path (query-only last pass) against the brute force too.
        for (u, v) in zip(edt.predictionToTruth, brute) where !(u == v || abs(u - v) <= 1e-12 * abs(v)) {
            XCTFail("distance transform \(u) vs brute force \(v)", file: file, line: line)
            return
        }
    }
}
