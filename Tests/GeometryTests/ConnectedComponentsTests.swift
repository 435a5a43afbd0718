import XCTest
@testable import Geometry

final class ConnectedComponentsTests: XCTestCase {
    func testMatchesScipyLabel2D() throws {
        let m = try Fixture.mask("cc2d_mask")
        for conn in [Connectivity.four, .eight] {
            let expected = try Fixture.ints("cc2d_labels\(conn.rawValue)")
            let cc = try ConnectedComponents.label(m, connectivity: conn)
            XCTAssertEqual(cc.labels.storage, expected.storage, "connectivity \(conn.rawValue)")
            XCTAssertEqual(cc.count, Int(expected.storage.max()!))
            XCTAssertEqual(cc.sizes.reduce(0, +), m.storage.filter { $0 }.count)
            XCTAssertEqual(try ConnectedComponents.count(m, connectivity: conn), cc.count)
        }
    }

    func testMatchesScipyLabel3D() throws {
        let m = try Fixture.mask("cc3d_mask")
        for conn in [Connectivity.six, .eighteen, .twentySix] {
            let expected = try Fixture.ints("cc3d_labels\(conn.rawValue)")
            let cc = try ConnectedComponents.label(m, connectivity: conn)
            XCTAssertEqual(cc.labels.storage, expected.storage, "connectivity \(conn.rawValue)")
            for k in 1...cc.count {
                XCTAssertEqual(cc.sizes[k - 1], expected.storage.filter { $0 == Int32(k) }.count)
            }
        }
    }

    func testMultiLabelMatchesCc3dPartition() throws {
        try checkMultiLabel("ccmulti_map", "ccmulti_labels8", .eight)
        try checkMultiLabel("ccmulti3d_map", "ccmulti3d_labels6", .six)
        try checkMultiLabel("ccmulti3d_map", "ccmulti3d_labels26", .twentySix)
    }

    func checkMultiLabel(_ mapName: String, _ expectedName: String, _ connectivity: Connectivity) throws {
        let map = try Fixture.ints(mapName)
        let expected = try Fixture.ints(expectedName)
        let cc = try ConnectedComponents.label(map, connectivity: connectivity)
        XCTAssertEqual(cc.count, Int(expected.storage.max()!))
        // Same partition: the label correspondence is a bijection.
        var forward: [Int32: Int32] = [:], backward: [Int32: Int32] = [:]
        for i in 0..<map.count {
            let a = cc.labels.storage[i], b = expected.storage[i]
            XCTAssertEqual(a == 0, b == 0)
            if let f = forward[a] { XCTAssertEqual(f, b) } else { forward[a] = b }
            if let g = backward[b] { XCTAssertEqual(g, a) } else { backward[b] = a }
        }
    }

    func testSlabSeamsMergeOnALargeGrid() throws {
        // A U shape whose arms meet only at the bottom: labelled in parallel slabs.
        var m = Grid(shape: [200, 30], repeating: false)
        for y in 0..<200 { m[y, 2] = true; m[y, 27] = true }
        for x in 2...27 { m[199, x] = true }
        m[0, 10] = true
        let cc = try ConnectedComponents.label(m, connectivity: .four)
        XCTAssertEqual(cc.count, 2)
        XCTAssertEqual(cc.labels[0, 2], 1)
        XCTAssertEqual(cc.labels[0, 10], 2)
        XCTAssertEqual(cc.labels[0, 27], 1)
    }

    func testRejectsConnectivityOfWrongRank() {
        XCTAssertThrowsError(try ConnectedComponents.label(Grid(shape: [2, 2], repeating: true), connectivity: .six))
        XCTAssertThrowsError(try ConnectedComponents.label(Grid(shape: [2, 2, 2], repeating: true), connectivity: .eight))
    }
}
