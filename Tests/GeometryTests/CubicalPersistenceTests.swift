import XCTest
@testable import Geometry

/// 0-dimensional cubical persistence against GUDHI 3.13 (scripts/fixtures/make_topoloss_fixtures.py)
/// and hand-computed filtrations.
final class CubicalPersistenceTests: XCTestCase {
    static let gudhiCases = ["random7x9", "random20x13", "smooth32x24", "ties10x10", "xpattern", "checker6x6",
                             "twobumps", "row1x11", "constant4x3"]
    /// Cases without tied values, whose critical pixels are unique.
    static let pixelCases = ["random7x9", "random20x13", "smooth32x24", "row1x11"]

    private func sortedPairs(_ d: PersistenceDiagram) -> [[Double]] {
        d.allBars.map { [$0.birth, $0.death] }.sorted { ($0[0], $0[1]) < ($1[0], $1[1]) }
    }

    func testDiagramsEqualGUDHIs() throws {
        for name in Self.gudhiCases {
            let grid = try Fixture.doubles("persistence_\(name)")
            let expected = try Fixture.npy("persistence_\(name)_diagram")
            let values = expected.doubles()
            let pairs = stride(from: 0, to: values.count, by: 2).map { [values[$0], values[$0 + 1]] }
            // Exact: values are copied from the grid, never computed.
            XCTAssertEqual(sortedPairs(try CubicalPersistence.diagram(grid)), pairs, name)
        }
    }

    func testCriticalPixelsEqualGUDHIs() throws {
        for name in Self.pixelCases {
            let grid = try Fixture.doubles("persistence_\(name)")
            let d = try CubicalPersistence.diagram(grid)
            let diagram = try Fixture.npy("persistence_\(name)_diagram").doubles()
            let pixels = try Fixture.npy("persistence_\(name)_pixels").doubles().map { Int($0) }
            XCTAssertEqual(d.allBars.count, pixels.count / 2, name)
            for row in 0..<(pixels.count / 2) {
                let death = diagram[2 * row + 1]
                guard let bar = d.allBars.first(where: { $0.birthPixel == pixels[2 * row] }) else {
                    XCTFail("\(name): no bar born at pixel \(pixels[2 * row])"); continue
                }
                XCTAssertEqual(bar.death, death, name)
                if death.isFinite {
                    XCTAssertEqual(bar.deathPixel, pixels[2 * row + 1], name)
                } else {
                    // GUDHI names no death cell; ours is the last pixel of the filtration.
                    XCTAssertEqual(bar.deathPixel, grid.storage.indices.max { grid.storage[$0] < grid.storage[$1] }, name)
                }
            }
        }
    }

    /// Two basins of f along the middle row, separated by a saddle at 0.7:
    ///     0.95 0.95 0.95 0.95 0.95
    ///     0.1  0.7  0.6  0.5  0.3
    ///     0.95 0.95 0.95 0.95 0.95
    /// The basin born at 0.3 (pixel 9) grows through 0.5 and 0.6 and dies when 0.7 (pixel 6)
    /// joins it to the older basin born at 0.1 (pixel 5), which lives on.
    func testTwoBasinsByHand() throws {
        var f = Grid(shape: [3, 5], repeating: 0.95)
        for (x, v) in [0.1, 0.7, 0.6, 0.5, 0.3].enumerated() { f[1, x] = v }
        let d = try CubicalPersistence.diagram(f)
        XCTAssertEqual(d.bars, [PersistenceBar(birth: 0.3, death: 0.7, birthPixel: 9, deathPixel: 6)])
        // The essential bar ends, for our purposes, at the last pixel: the 0.95 with the largest index.
        XCTAssertEqual(d.essential, PersistenceBar(birth: 0.1, death: .infinity, birthPixel: 5, deathPixel: 14))
        XCTAssertEqual(d.bars[0].persistence, 0.4, accuracy: 1e-15)
    }

    func testPixelsTouchingAtACornerAreConnected() throws {
        // 8-connectivity (GUDHI's closed cells): the 0.2 pixel joins the 0.1 one on entry, no bar.
        let diagonal = try Grid(shape: [2, 2], storage: [0.2, 1, 1, 0.1])
        let d = try CubicalPersistence.diagram(diagonal)
        XCTAssertEqual(d.bars, [])
        XCTAssertEqual(d.essential?.birthPixel, 3)
        // Separated by a full column, they are two components merged at 1.
        let apart = try Grid(shape: [2, 3], storage: [0.2, 1, 0.1, 1, 1, 1])
        XCTAssertEqual(try CubicalPersistence.diagram(apart).bars,
                       [PersistenceBar(birth: 0.2, death: 1, birthPixel: 0, deathPixel: 1)])
    }

    func testFloatGridsEmptyGridsAndErrors() throws {
        let floats = try Grid<Float>(shape: [1, 3], storage: [0.25, 1, 0.5])
        XCTAssertEqual(try CubicalPersistence.diagram(floats).bars,
                       [PersistenceBar(birth: 0.5, death: 1, birthPixel: 2, deathPixel: 1)])
        let empty = try CubicalPersistence.diagram(Grid<Double>(shape: [0, 4], storage: []))
        XCTAssertEqual(empty.allBars, [])
        XCTAssertThrowsError(try CubicalPersistence.diagram(Grid(shape: [1, 2], storage: [0, Double.nan]))) {
            XCTAssertTrue("\($0)".contains("finite"), "\($0)")
        }
        XCTAssertThrowsError(try CubicalPersistence.diagram(Grid(shape: [2, 2, 2], repeating: 0.0))) {
            XCTAssertTrue("\($0)".contains("2D"), "\($0)")
        }
    }
}
