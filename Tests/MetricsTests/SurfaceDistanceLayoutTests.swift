import XCTest
import Geometry
@testable import Metrics

/// Surface distances on the layouts that stress the box crop and the query-only transform:
/// objects on the grid faces (box = whole grid), tiny objects far apart (most planes and rows
/// without a surface), one empty side, anisotropic spacing. Every method against a brute force
/// over the surface elements (`assertSurfaceDistancesAgree`), and HD95 by hand.
final class SurfaceDistanceLayoutTests: XCTestCase {
    func testObjectsOnTheGridFaces() throws {
        var p = Grid(shape: [14, 11, 16], repeating: false), g = p
        for y in 0..<11 { for x in 0..<16 { p[0, y, x] = true; p[1, y, x] = true } }       // the first two planes
        for z in 0..<14 { for y in 0..<11 { g[z, y, 15] = true } }                          // the last x face
        g[13, 10, 0] = true                                                                 // the far corner
        for sp in [[1.0, 1.0, 1.0], [2.5, 0.8, 0.6], [0.3, 1.7, 1.1]] { try assertSurfaceDistancesAgree(p, g, spacing: sp) }
        // Whole-grid masks: every face element is surface.
        let full = Grid(shape: [6, 7, 8], repeating: true)
        try assertSurfaceDistancesAgree(full, p.cropped(to: BoundingBox(lower: [0, 0, 0], upper: [6, 7, 8])), spacing: [1.2, 0.9, 2.0])
        var p2 = Grid(shape: [33, 47], repeating: false), g2 = p2
        for x in 0..<47 { p2[0, x] = true }
        for y in 0..<33 { g2[y, 46] = true; g2[y, 0] = true }
        for sp in [[1.0, 1.0], [0.7, 2.3]] { try assertSurfaceDistancesAgree(p2, g2, spacing: sp) }
        try assertSurfaceDistancesAgree(Grid(shape: [33, 47], repeating: true), g2, spacing: [3.0, 0.45])
    }

    func testTinyObjectsFarApart() throws {
        var p = Grid(shape: [90, 3, 70], repeating: false), g = p
        p[0, 1, 0] = true
        p[45, 0, 33] = true
        g[89, 2, 69] = true
        for sp in [[1.0, 1.0, 1.0], [0.4, 3.0, 1.5]] { try assertSurfaceDistancesAgree(p, g, spacing: sp) }
        // HD95 by hand: prediction→truth distances are |(89,1,69)|, |(44,2,36)|; the truth's single
        // element is nearest to (45,0,33): both directions' 95th percentiles by linear interpolation.
        let d = try SurfaceDistances(prediction: p, truth: g, spacing: [1, 1, 1])
        let far = (89.0 * 89 + 1 + 69 * 69).squareRoot(), near = (44.0 * 44 + 4 + 36 * 36).squareRoot()
        XCTAssertEqual(d.predictionToTruth, [far, near])
        XCTAssertEqual(d.truthToPrediction, [near])
        XCTAssertEqual(d.hausdorff(percentile: 95), near + (far - near) * 0.95, accuracy: 1e-12)
        var p2 = Grid(shape: [5, 300], repeating: false), g2 = p2
        p2[0, 0] = true
        g2[4, 299] = true
        g2[2, 150] = true
        try assertSurfaceDistancesAgree(p2, g2, spacing: [2.0, 0.5])
    }

    func testOneSideEmptyIsInfinite() throws {
        var g = Grid(shape: [9, 10, 11], repeating: false)
        for z in 2..<5 { for y in 3..<7 { for x in 0..<11 { g[z, y, x] = true } } }
        let empty = Grid(shape: [9, 10, 11], repeating: false)
        for (p, t) in [(empty, g), (g, empty)] {
            let d = try SurfaceDistances(prediction: p, truth: t, spacing: [1, 2, 3])
            XCTAssertEqual(d.predictionToTruth.count, try Boundary.inner(g).storage.filter { $0 }.count)
            XCTAssertTrue(d.predictionToTruth.allSatisfy { $0 == .infinity })
            XCTAssertEqual(d.hausdorff(percentile: 95), .infinity)
            try assertSurfaceDistancesAgree(p, t, spacing: [1, 2, 3])
        }
        XCTAssertTrue(try SurfaceDistances(prediction: empty, truth: empty).hausdorff(percentile: 95).isNaN)
    }

    /// Larger random blobs (both 2D and 3D, box nearly the whole grid): the automatic choice
    /// gives the EDT path's values exactly.
    func testLargerRandomMasks() throws {
        var rng = SeededGenerator(seed: 77)
        for shape in [[120, 150], [40, 50, 45]] {
            let p = SurfaceDistanceMethodTests.randomMask(shape, &rng, boxes: 6, dots: 5)
            let g = SurfaceDistanceMethodTests.randomMask(shape, &rng, boxes: 5, dots: 7)
            let sp = shape.count == 3 ? [2.0, 0.7, 0.9] : [0.6, 1.3]
            let edt = try SurfaceDistances(prediction: p, truth: g, spacing: sp, method: .distanceTransform)
            let auto = try SurfaceDistances(prediction: p, truth: g, spacing: sp, method: .automatic)
            let near = try SurfaceDistances(prediction: p, truth: g, spacing: sp, method: .nearestPoint)
            XCTAssertEqual(auto.predictionToTruth, edt.predictionToTruth)
            XCTAssertEqual(auto.truthToPrediction, edt.truthToPrediction)
            XCTAssertEqual(near.predictionToTruth, edt.predictionToTruth)
            XCTAssertEqual(near.truthToPrediction, edt.truthToPrediction)
        }
    }
}
