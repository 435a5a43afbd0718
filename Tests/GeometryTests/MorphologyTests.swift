import XCTest
@testable import Geometry

final class MorphologyTests: XCTestCase {
    func testMatchesScipy2D() throws {
        let m = try Fixture.mask("morph2d_mask")
        XCTAssertEqual(try Morphology.erode(m, .cross).storage, try Fixture.mask("morph2d_erode_cross").storage)
        XCTAssertEqual(try Morphology.dilate(m, .cross).storage, try Fixture.mask("morph2d_dilate_cross").storage)
        XCTAssertEqual(try Morphology.erode(m, .box(radius: 2)).storage, try Fixture.mask("morph2d_erode_box2").storage)
        XCTAssertEqual(try Morphology.dilate(m, .box(radius: 1)).storage, try Fixture.mask("morph2d_dilate_box1").storage)
        XCTAssertEqual(try Morphology.erode(m, .ball(radius: 3)).storage, try Fixture.mask("morph2d_erode_disk3").storage)
        XCTAssertEqual(try Morphology.dilate(m, .ball(radius: 3)).storage, try Fixture.mask("morph2d_dilate_disk3").storage)
    }

    func testMatchesScipy3D() throws {
        let m = try Fixture.mask("morph3d_mask")
        XCTAssertEqual(try Morphology.erode(m, .ball(radius: 2)).storage, try Fixture.mask("morph3d_erode_ball2").storage)
        XCTAssertEqual(try Morphology.dilate(m, .ball(radius: 2)).storage, try Fixture.mask("morph3d_dilate_ball2").storage)
        XCTAssertEqual(try Boundary.inner(m).storage, try Fixture.mask("morph3d_boundary6").storage)
    }

    func testBoundaries() throws {
        let m = try Fixture.mask("morph2d_mask")
        XCTAssertEqual(try Boundary.inner(m).storage, try Fixture.mask("morph2d_boundary4").storage)
        XCTAssertEqual(try Boundary.inner(m, connectivity: .eight).storage, try Fixture.mask("morph2d_boundary8").storage)
        // Tolerance band: every element within 1.5 of the boundary.
        let band = try Boundary.inner(m, tolerance: 1.5)
        let b = try Boundary.inner(m)
        for i in 0..<m.count where b.storage[i] { XCTAssertTrue(band.storage[i]) }
        XCTAssertGreaterThan(band.storage.filter { $0 }.count, b.storage.filter { $0 }.count)
    }

    func testOpenCloseAreAntiExtensiveAndExtensive() throws {
        let m = try Fixture.mask("morph2d_mask")
        let o = try Morphology.open(m, .box(radius: 1)), c = try Morphology.close(m, .box(radius: 1))
        for i in 0..<m.count {
            if o.storage[i] { XCTAssertTrue(m.storage[i]) }
            if m.storage[i] { XCTAssertTrue(c.storage[i]) }
        }
    }
}
