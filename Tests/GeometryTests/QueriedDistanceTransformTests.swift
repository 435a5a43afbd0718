import XCTest
@testable import Geometry

/// `squaredEuclidean(_:at:)` (plane-by-plane 2D transforms, last pass searched outward from each
/// query, planes/rows without targets skipped) against the brute-force minimum on the
/// layouts that exercise its skips: targets in a few planes or rows only, queries in planes with
/// no target, objects touching the grid faces, degenerate axes, and no targets or no queries.
final class QueriedDistanceTransformTests: XCTestCase {
    func check(_ m: Grid<Bool>, _ queries: Grid<Bool>, spacing: [Double], file: StaticString = #filePath, line: UInt = #line) throws {
        for (target, value) in [(DistanceTransform.Target.foreground, true), (.background, false)] {
            let brute = DistanceTransformTests.bruteSquared(m, spacing: spacing, targetValue: value)
            let want = queries.storage.indices.filter { queries.storage[$0] }.map { brute[$0] }
            let got = try DistanceTransform.squaredEuclidean(m, spacing: spacing, to: target, at: queries)
            XCTAssertEqual(got.count, want.count, file: file, line: line)
            for (k, (u, v)) in zip(got, want).enumerated() where !(u == v || abs(u - v) <= 1e-12 * v) {
                XCTFail("shape \(m.shape) spacing \(spacing) \(target) query \(k): \(u) vs brute force \(v)", file: file, line: line)
                return
            }
            // The full transform, to the last bit where spacing is isotropic (integer squared distances).
            let full = try DistanceTransform.squaredEuclidean(m, spacing: spacing, to: target)
            let atQueries = queries.storage.indices.filter { queries.storage[$0] }.map { full.storage[$0] }
            if Set(spacing).count == 1 { XCTAssertEqual(got, atQueries, file: file, line: line) }
            for (u, v) in zip(got, atQueries) where !(u == v || abs(u - v) <= 1e-12 * v) {
                XCTFail("shape \(m.shape) spacing \(spacing) \(target): \(u) vs full transform \(v)", file: file, line: line)
                return
            }
        }
    }

    func testTargetsInFewPlanesAndQueriesInEmptyPlanes() throws {
        var m = Grid(shape: [12, 9, 11], repeating: false)
        m[3, 4, 5] = true
        m[3, 0, 10] = true
        m[10, 8, 0] = true
        var q = Grid(shape: [12, 9, 11], repeating: false)
        for z in [0, 1, 3, 6, 11] { for y in 0..<9 { for x in 0..<11 where (x + y + z) % 3 == 0 { q[z, y, x] = true } } }
        for sp in [[1.0, 1.0, 1.0], [2.5, 0.8, 0.6], [0.3, 1.7, 1.1]] { try check(m, q, spacing: sp) }
    }

    func testTargetsOnTheGridFacesAndWholeGridQueries() throws {
        var m = Grid(shape: [7, 10, 13], repeating: false)
        for y in 0..<10 { for x in 0..<13 { m[0, y, x] = true } }   // the whole first face
        m[6, 9, 12] = true                                            // the far corner
        m[3, 0, 6] = true
        let q = Grid(shape: [7, 10, 13], repeating: true)
        try check(m, q, spacing: [1, 1, 1])
        try check(m, q, spacing: [3.0, 0.45, 1.3])
        var m2 = Grid(shape: [17, 23], repeating: false)
        for x in 0..<23 { m2[16, x] = true }
        for y in 0..<17 { m2[y, 0] = true }
        try check(m2, Grid(shape: [17, 23], repeating: true), spacing: [0.7, 2.3])
    }

    func testRowsWithoutTargets2D() throws {
        var m = Grid(shape: [40, 30], repeating: false)
        m[2, 29] = true
        m[37, 0] = true
        var q = Grid(shape: [40, 30], repeating: false)
        for y in 0..<40 { q[y, (y * 7) % 30] = true }
        q[0, 0] = true; q[39, 29] = true
        for sp in [[1.0, 1.0], [0.7, 2.3], [3.0, 0.45]] { try check(m, q, spacing: sp) }
    }

    func testDegenerateAxes() throws {
        var rng = SeededGenerator(seed: 11)
        for shape in [[1, 17], [19, 1], [1, 1], [1, 1, 14], [1, 13, 1], [15, 1, 1], [1, 6, 7], [5, 1, 9]] {
            let n = shape.reduce(1, *)
            let m = try Grid(shape: shape, storage: (0..<n).map { _ in Double.random(in: 0..<1, using: &rng) < 0.15 })
            let q = try Grid(shape: shape, storage: (0..<n).map { _ in Double.random(in: 0..<1, using: &rng) < 0.5 })
            try check(m, q, spacing: shape.map { _ in Double.random(in: 0.4...2.5, using: &rng) })
        }
    }

    func testNoTargetsOrNoQueries() throws {
        let none = Grid(shape: [6, 5, 4], repeating: false)
        let all = Grid(shape: [6, 5, 4], repeating: true)
        XCTAssertEqual(try DistanceTransform.squaredEuclidean(none, to: .foreground, at: all), [Double](repeating: .infinity, count: 120))
        XCTAssertEqual(try DistanceTransform.squaredEuclidean(all, to: .background, at: all), [Double](repeating: .infinity, count: 120))
        XCTAssertEqual(try DistanceTransform.squaredEuclidean(all, to: .foreground, at: none), [])
        XCTAssertEqual(try DistanceTransform.squaredEuclidean(Grid(shape: [3, 8], repeating: false), to: .foreground,
                                                              at: Grid(shape: [3, 8], repeating: true)),
                       [Double](repeating: .infinity, count: 24))
    }

    /// Large enough to split across threads and blocks (wider than a 64-column block, planes
    /// split between chunks): random sparse targets against random queries.
    func testLargerRandomGridsAgainstTheFullTransform() throws {
        var rng = SeededGenerator(seed: 5)
        for shape in [[33, 70, 131], [300, 257]] {
            let n = shape.reduce(1, *)
            let m = try Grid(shape: shape, storage: (0..<n).map { _ in Double.random(in: 0..<1, using: &rng) < 0.002 })
            let q = try Grid(shape: shape, storage: (0..<n).map { _ in Double.random(in: 0..<1, using: &rng) < 0.05 })
            let sp = shape.count == 3 ? [2.0, 0.9, 0.7] : [1.1, 0.6]
            for target in [DistanceTransform.Target.foreground, .background] {
                let got = try DistanceTransform.squaredEuclidean(m, spacing: sp, to: target, at: q)
                let full = try DistanceTransform.squaredEuclidean(m, spacing: sp, to: target)
                let want = q.storage.indices.filter { q.storage[$0] }.map { full.storage[$0] }
                XCTAssertEqual(got.count, want.count)
                for (u, v) in zip(got, want) where !(u == v || abs(u - v) <= 1e-12 * v) {
                    XCTFail("shape \(shape) \(target): \(u) vs full transform \(v)")
                    return
                }
            }
        }
    }
}
