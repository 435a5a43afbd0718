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
}
