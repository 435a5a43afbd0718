import XCTest
@testable import Geometry

final class SkeletonTests: XCTestCase {
    func testMatchesSkimage2D() throws {
        for i in 0..<3 {
            let m = try Fixture.mask("skel2d_\(i)_mask")
            let expected = try Fixture.mask("skel2d_\(i)")
            XCTAssertEqual(try Skeleton.skeletonize(m).storage, expected.storage, "skel2d_\(i)")
        }
    }

    func testMatchesSkimageLee3D() throws {
        for i in 0..<4 {
            let m = try Fixture.mask("skel3d_\(i)_mask")
            let expected = try Fixture.mask("skel3d_\(i)")
            XCTAssertEqual(try Skeleton.skeletonize(m).storage, expected.storage, "skel3d_\(i)")
        }
    }

    func testSkeletonKeepsTopology() throws {
        let m = try Fixture.mask("betti2d_ring")
        XCTAssertEqual(try BettiNumbers(Skeleton.skeletonize(m)), try BettiNumbers(m))
        let shell = try Fixture.mask("betti3d_shell")
        XCTAssertEqual(try BettiNumbers(Skeleton.skeletonize(shell)), try BettiNumbers(shell))
    }
}
