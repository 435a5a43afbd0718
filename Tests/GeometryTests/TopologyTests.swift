import XCTest
@testable import Geometry

final class TopologyTests: XCTestCase {
    func testBettiNumbersMatchScipyAndSkimage() throws {
        let expected = try Fixture.expected()
        let betti = expected["betti"] as! [String: [Int]]
        let euler = expected["euler"] as! [String: [Int]]
        XCTAssertGreaterThanOrEqual(betti.count, 9)
        for (name, b) in betti {
            let m = try Fixture.mask(name)
            XCTAssertEqual(try BettiNumbers(m), BettiNumbers(b0: b[0], b1: b[1], b2: b[2]), name)
            let e = euler[name]!
            XCTAssertEqual(try EulerCharacteristic.compute(m, connectivity: .minimal(rank: m.rank)), e[0], name)
            XCTAssertEqual(try EulerCharacteristic.compute(m, connectivity: .maximal(rank: m.rank)), e[1], name)
        }
    }

    func testHandMadeShapes() throws {
        let ring = try Fixture.mask("betti2d_ring")
        XCTAssertEqual(try BettiNumbers(ring), BettiNumbers(b0: 2, b1: 1))
        XCTAssertEqual(try BettiNumbers(Fixture.mask("betti3d_torus")), BettiNumbers(b0: 1, b1: 1, b2: 0))
        XCTAssertEqual(try BettiNumbers(Fixture.mask("betti3d_shell")), BettiNumbers(b0: 1, b1: 0, b2: 1))
    }

    func testEmptyMaskAndGudhiQuirk() throws {
        let empty = Grid(shape: [5, 5], repeating: false)
        XCTAssertEqual(try BettiNumbers(empty), BettiNumbers(b0: 0, b1: 0))
        XCTAssertEqual(try BettiNumbers(empty, gudhiCompatible: true), BettiNumbers(b0: 1, b1: 0))
    }

    func testBitQuadsOfASquare() throws {
        var m = Grid(shape: [4, 4], repeating: false)
        for y in 1...2 { for x in 1...2 { m[y, x] = true } }
        let q = try EulerCharacteristic.bitQuads(m)
        XCTAssertEqual(q.area, 4)
        XCTAssertEqual(q.euler4, 1)
        XCTAssertEqual(q.euler8, 1)
        XCTAssertEqual(q.q1, 4)
        XCTAssertEqual(q.q2, 4)
        XCTAssertEqual(q.perimeter, 8)
        XCTAssertEqual(q.q4, 1)
    }
}
