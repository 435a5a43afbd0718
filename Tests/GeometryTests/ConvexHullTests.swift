import XCTest
@testable import Geometry

/// Hull rasterisation against SciPy's Delaunay(find_simplex ≥ 0) (scripts/fixtures/make_pseudolabel_fixtures.py).
final class ConvexHullTests: XCTestCase {
    func check(_ name: String, shape: [Int]) throws {
        let p = try Fixture.npy("hull\(name)_points")
        let values = try p.doubles()
        let d = p.shape[1]
        let points = (0..<p.shape[0]).map { Array(values[($0 * d)..<(($0 + 1) * d)]) }
        let expected = try Fixture.mask("hull\(name)_mask")
        XCTAssertEqual(expected.shape, shape)
        let got = try ConvexHull(points: points).rasterize(shape: shape)
        let differ = zip(got.storage, expected.storage).filter { $0 != $1 }.count
        XCTAssertEqual(differ, 0, "\(name): \(differ) voxels differ from scipy")
        XCTAssertGreaterThan(expected.storage.filter { $0 }.count, 10, name)
    }

    func testMatchesScipy2D() throws {
        for name in ["2d_random5", "2d_random12", "2d_integer"] { try check(name, shape: [40, 48]) }
    }

    func testMatchesScipy3D() throws {
        for name in ["3d_random6", "3d_random13", "3d_integer"] { try check(name, shape: [24, 20, 28]) }
    }

    func testDegeneratePointsAreRefused() throws {
        XCTAssertEqual(ConvexHull.affineRank([[1, 2, 3]]), 0)
        XCTAssertEqual(ConvexHull.affineRank([[0, 0, 0], [1, 1, 1], [2, 2, 2], [5, 5, 5]]), 1)
        XCTAssertEqual(ConvexHull.affineRank([[0, 0, 1], [4, 0, 1], [0, 3, 1], [7, 7, 1]]), 2)
        XCTAssertEqual(ConvexHull.affineRank([[0, 0, 0], [4, 0, 0], [0, 3, 0], [0, 0, 1]]), 3)
        XCTAssertThrowsError(try ConvexHull(points: [[0, 0, 1], [4, 0, 1], [0, 3, 1], [7, 7, 1]])) { e in
            XCTAssertTrue("\(e)".contains("span 2 dimension"), "\(e)")
        }
        XCTAssertThrowsError(try ConvexHull(points: [[0, 0], [1, 1]]))
        XCTAssertThrowsError(try ConvexHull(points: [[0, 0, 0, 0], [1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]]))
    }

    func testUnitSquareIncludesItsBoundary() throws {
        let hull = try ConvexHull(points: [[1, 1], [1, 3], [3, 1], [3, 3], [2, 2]])
        XCTAssertEqual(hull.normals.count, 4)
        let g = try hull.rasterize(shape: [5, 5])
        XCTAssertEqual(g.storage.filter { $0 }.count, 9)
        XCTAssertTrue(hull.contains([1, 1]) && hull.contains([2, 3]) && !hull.contains([0.999, 2]))
    }
}
