import XCTest
@testable import Geometry

final class DistanceTransformTests: XCTestCase {
    func testMatchesScipy2D() throws {
        let m = try Fixture.mask("edt2d_mask")
        assertClose(try DistanceTransform.euclidean(m), try Fixture.doubles("edt2d"), tolerance: 1e-6)
    }

    func testMatchesScipyAnisotropic2D() throws {
        let m = try Fixture.mask("edt2d_mask", spacing: [0.7, 1.9])
        assertClose(try DistanceTransform.euclidean(m), try Fixture.doubles("edt2d_aniso"), tolerance: 1e-6)
        // Distance to the nearest foreground element = scipy's edt of the complement.
        assertClose(try DistanceTransform.euclidean(m, to: .foreground), try Fixture.doubles("edt2d_inverse"), tolerance: 1e-6)
    }

    func testMatchesScipyAnisotropic3D() throws {
        let m = try Fixture.mask("edt3d_mask", spacing: [2.5, 0.8, 1.1])
        assertClose(try DistanceTransform.euclidean(m), try Fixture.doubles("edt3d_aniso"), tolerance: 1e-6)
    }

    func testAllTrueFollowsScipyInParityModeAndIsInfiniteByDefault() throws {
        let m2 = Grid(shape: [5, 6], spacing: [1.5, 0.5], repeating: true)
        assertClose(try DistanceTransform.euclidean(m2, noTarget: .scipyParity), try Fixture.doubles("edt2d_full"), tolerance: 1e-6)
        XCTAssertTrue(try DistanceTransform.euclidean(m2).storage.allSatisfy { $0 == .infinity })
        let m3 = Grid(shape: [3, 4, 5], spacing: [2.0, 1.0, 0.5], repeating: true)
        assertClose(try DistanceTransform.euclidean(m3, noTarget: .scipyParity), try Fixture.doubles("edt3d_full"), tolerance: 1e-6)
    }

    func testAllFalseIsZero() throws {
        let m = Grid(shape: [4, 4], repeating: false)
        XCTAssertEqual(try DistanceTransform.euclidean(m).storage, [Double](repeating: 0, count: 16))
    }

    func testChamferMatchesScipyCdt() throws {
        let m = try Fixture.mask("edt2d_mask")
        XCTAssertEqual(try DistanceTransform.chamfer(m, metric: .chessboard).storage, try Fixture.ints("cdt2d_chessboard").storage)
        XCTAssertEqual(try DistanceTransform.chamfer(m, metric: .taxicab).storage, try Fixture.ints("cdt2d_taxicab").storage)
    }

    func testSignedDistanceIsKervadecMap() throws {
        // A 1-pixel-wide bar: inner boundary is 0, outside is the distance to the bar.
        var m = Grid(shape: [3, 5], repeating: false)
        for x in 0..<5 { m[1, x] = true }
        let phi = try DistanceTransform.signed(m)
        XCTAssertEqual(phi[1, 2], 0)
        XCTAssertEqual(phi[0, 2], 1)
        XCTAssertEqual(try DistanceTransform.signed(Grid(shape: [2, 2], repeating: false)).storage, [0, 0, 0, 0])
    }

    func testRejectsBadSpacing() {
        let m = Grid(shape: [2, 2], repeating: true)
        XCTAssertThrowsError(try DistanceTransform.euclidean(m, spacing: [1, 0]))
        XCTAssertThrowsError(try DistanceTransform.euclidean(m, spacing: [1]))
    }

    /// Brute force: min over the targets of the envelope passes' per-axis terms, summed in their
    /// order (last axis (d·s)², then s²·d·d for each earlier axis).
    static func bruteSquared(_ m: Grid<Bool>, spacing sp: [Double], targetValue: Bool) -> [Double] {
        let strides = m.strides
        func coords(_ i: Int) -> [Int] { (0..<m.rank).map { (i / strides[$0]) % m.shape[$0] } }
        let targets = m.storage.indices.filter { m.storage[$0] == targetValue }.map(coords)
        let last = m.rank - 1
        return m.storage.indices.map { i in
            let p = coords(i)
            return targets.map { t -> Double in
                let v = Double(abs(p[last] - t[last])) * sp[last]
                var s = v * v
                for a in stride(from: last - 1, through: 0, by: -1) {
                    let d = Double(abs(p[a] - t[a]))
                    s = sp[a] * sp[a] * d * d + s
                }
                return s
            }.min() ?? .infinity
        }
    }

    /// Random masks from sparse to dense (one segment per line up to many short runs between
    /// targets), both target kinds, isotropic and anisotropic: the segmented envelope passes give
    /// the brute-force minimum, and the query-only transform equals the full one at the queries.
    func testRandomMasksMatchBruteForce() throws {
        var rng = SeededGenerator(seed: 42)
        for trial in 0..<24 {
            let rank = trial % 2 == 0 ? 2 : 3
            let shape = (0..<rank).map { _ in Int.random(in: 1...(rank == 2 ? 40 : 14), using: &rng) }
            let density = [0.02, 0.2, 0.5, 0.9][trial % 4]
            let count = shape.reduce(1, *)
            let m = try Grid(shape: shape, storage: (0..<count).map { _ in Double.random(in: 0..<1, using: &rng) < density })
            let queries = try Grid(shape: shape, storage: (0..<count).map { _ in Double.random(in: 0..<1, using: &rng) < 0.3 })
            for spacing in [[Double](repeating: 1, count: rank), rank == 2 ? [0.7, 2.3] : [2.5, 0.8, 0.6]] {
                for (target, value) in [(DistanceTransform.Target.background, false), (.foreground, true)] {
                    let brute = Self.bruteSquared(m, spacing: spacing, targetValue: value)
                    let full = try DistanceTransform.squaredEuclidean(m, spacing: spacing, to: target)
                    for i in 0..<count where !(full.storage[i] == brute[i] || abs(full.storage[i] - brute[i]) <= 1e-12 * brute[i]) {
                        XCTFail("shape \(shape) spacing \(spacing) \(target) element \(i): \(full.storage[i]) vs brute force \(brute[i])")
                        return
                    }
                    let sampled = try DistanceTransform.squaredEuclidean(m, spacing: spacing, to: target, at: queries)
                    // The query path's last pass is an exact outward search; the full one's envelope may
                    // differ in the last bit with anisotropic spacing.
                    let atQueries = queries.storage.indices.filter { queries.storage[$0] }.map { full.storage[$0] }
                    XCTAssertEqual(sampled.count, atQueries.count)
                    for (u, v) in zip(sampled, atQueries) where !(u == v || abs(u - v) <= 1e-12 * v) {
                        XCTFail("shape \(shape) spacing \(spacing) \(target): at queries \(u) vs full \(v)")
                        return
                    }
                }
            }
        }
        XCTAssertThrowsError(try DistanceTransform.squaredEuclidean(Grid(shape: [2, 2], repeating: true),
                                                                    at: Grid(shape: [2, 3], repeating: true)))
    }

    /// Separable exact reference: per axis (last first), each element takes the minimum over its
    /// whole line of s²·d·d + g, by brute force (no envelope, no search).
    static func separableSquared(_ m: Grid<Bool>, spacing sp: [Double], targetValue: Bool) -> [Double] {
        let shape = m.shape, strides = m.strides
        var g = m.storage.map { $0 == targetValue ? 0.0 : .infinity }
        for axis in stride(from: m.rank - 1, through: 0, by: -1) {
            let n = shape[axis], st = strides[axis], s2 = sp[axis] * sp[axis]
            var out = g
            for start in 0..<g.count where (start / st) % n == 0 {
                for q in 0..<n {
                    var best = Double.infinity
                    for k in 0..<n {
                        let d = Double(abs(q - k))
                        let v = axis == m.rank - 1 ? (g[start + k * st] == 0 ? (d * sp[axis]) * (d * sp[axis]) : .infinity)
                                                   : s2 * d * d + g[start + k * st]
                        best = min(best, v)
                    }
                    out[start + q * st] = best
                }
            }
            g = out
        }
        return g
    }

    /// Grids large enough that a thread's lines switch between outward searches (dense targets)
    /// and the envelope (sparse targets: searches run long), and retry searching after a while:
    /// every element still equals the separable minimum.
    func testLinePassesSwitchingBetweenSearchAndEnvelopeStayExact() throws {
        var rng = SeededGenerator(seed: 7)
        for (shape, spacing) in [([100, 400], [1.0, 1.0]), ([70, 300], [0.7, 1.9]), ([3, 110, 180], [2.5, 1.0, 0.8])] {
            let count = shape.reduce(1, *), nx = shape[shape.count - 1]
            // Targets dense at both ends of the last axis (and in 3D in the first half of the first
            // axis), very sparse elsewhere.
            let m = try Grid(shape: shape, storage: (0..<count).map { i in
                let x = i % nx, dense = shape.count == 3 && i / (count / shape[0]) < shape[0] / 2
                let p = (x < nx / 3 || x > 5 * nx / 6 || dense) ? 0.3 : 0.0005
                return Double.random(in: 0..<1, using: &rng) >= p
            })
            let reference = Self.separableSquared(m, spacing: spacing, targetValue: false)
            let ours = try DistanceTransform.squaredEuclidean(m, spacing: spacing)
            var worst = 0.0
            for i in 0..<count where reference[i].isFinite { worst = max(worst, abs(ours.storage[i] - reference[i]) / max(1, reference[i])) }
            XCTAssertLessThanOrEqual(worst, 1e-12, "shape \(shape) spacing \(spacing)")
            XCTAssertEqual(ours.storage.filter(\.isInfinite).count, reference.filter(\.isInfinite).count)
            XCTAssertGreaterThan(reference.max()!, 25, "the sparse region must have far elements (shape \(shape))")
        }
    }
}
