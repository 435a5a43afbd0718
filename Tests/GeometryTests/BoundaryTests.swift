import XCTest
@testable import Geometry

/// The 4/6-connectivity boundary (byte-arithmetic rows) against its definition element by
/// element: true with an axis neighbour false, or on the grid edge when the edge is background.
final class BoundaryTests: XCTestCase {
    static func definition(_ m: Grid<Bool>, borderIsBackground: Bool) -> [Bool] {
        let strides = m.strides
        return m.storage.indices.map { i in
            guard m.storage[i] else { return false }
            let p = (0..<m.rank).map { (i / strides[$0]) % m.shape[$0] }
            for a in 0..<m.rank {
                for step in [-1, 1] {
                    let c = p[a] + step
                    if c < 0 || c >= m.shape[a] {
                        if borderIsBackground { return true }
                    } else if !m.storage[i + step * strides[a]] {
                        return true
                    }
                }
            }
            return false
        }
    }

    func testMinimalConnectivityMatchesTheDefinition() throws {
        var rng = SeededGenerator(seed: 23)
        let shapes = [[1, 1], [1, 9], [9, 1], [2, 2], [13, 17], [70, 90], [1, 1, 1], [1, 1, 8], [1, 7, 1], [6, 1, 1],
                      [1, 5, 6], [4, 1, 7], [5, 6, 1], [9, 11, 13], [3, 40, 70]]
        for shape in shapes {
            for density in [0.3, 0.8, 1.0] {
                let n = shape.reduce(1, *)
                let m = try Grid(shape: shape, storage: (0..<n).map { _ in Double.random(in: 0..<1, using: &rng) < density })
                for border in [true, false] {
                    let got = try Boundary.inner(m, borderIsBackground: border)
                    XCTAssertEqual(got.storage, Self.definition(m, borderIsBackground: border), "shape \(shape) density \(density) border \(border)")
                    XCTAssertEqual(got.shape, m.shape)
                    // The general neighbourhood path agrees.
                    let eroded = Morphology.neighbourhoodAll(m, connectivity: .minimal(rank: m.rank), borderValue: !border)
                    XCTAssertEqual(got.storage, zip(m.storage, eroded.storage).map { $0 && !$1 })
                }
            }
        }
    }
}
