import XCTest
import Geometry
@testable import Metrics

final class MetricsUnitTests: XCTestCase {
    func testOverlapEdgeCases() throws {
        let c = ConfusionCounts(truePositives: 0, falsePositives: 3, falseNegatives: 0, trueNegatives: 5)
        XCTAssertEqual(c.dice(), 0)
        XCTAssertTrue(c.recall.isNaN)
        XCTAssertEqual(c.precision, 0)
        XCTAssertEqual(c.relativeVolumeDifference, .infinity)
        let d = ConfusionCounts(truePositives: 6, falsePositives: 2, falseNegatives: 4, trueNegatives: 8)
        XCTAssertEqual(d.fScore(beta: 1), d.dice(), accuracy: 1e-12)
        let f2: Double = 30.0 / 48.0 // 5·TP / (5·TP + 4·FN + FP)
        XCTAssertEqual(d.fScore(beta: 2), f2, accuracy: 1e-12)
        XCTAssertEqual(d.relativeVolumeDifference, (8.0 - 10) / 10, accuracy: 1e-12)
    }

    func testShapeMismatchIsAnError() {
        XCTAssertThrowsError(try ConfusionCounts(prediction: Grid(shape: [2, 3], repeating: true),
                                                 truth: Grid(shape: [3, 2], repeating: true)))
    }

    func testPercentileIsLinear() {
        XCTAssertEqual(SurfaceDistances.percentile([1, 2, 3, 4], 50), 2.5)
        XCTAssertEqual(SurfaceDistances.percentile([0, 10], 95), 9.5, accuracy: 1e-12)
        XCTAssertEqual(SurfaceDistances.percentile([3], 95), 3)
    }

    func testAnalyticShiftedSquares() throws {
        // Two 10×10 squares shifted by 3 columns, spacing 2 mm across columns.
        var a = Grid(shape: [20, 20], spacing: [1, 2], repeating: false), b = a
        for y in 5..<15 { for x in 3..<13 { a[y, x] = true }; for x in 6..<16 { b[y, x] = true } }
        let sd = try SurfaceDistances(prediction: a, truth: b)
        XCTAssertEqual(sd.hausdorff, 6, accuracy: 1e-12) // 3 columns × 2 mm
        XCTAssertEqual(try ConfusionCounts(prediction: a, truth: b).dice(), 0.7, accuracy: 1e-12)
    }

    func testBFScoreEmptyCases() throws {
        let e = Grid(shape: [5, 5], repeating: false)
        var m = e
        m[2, 2] = true
        XCTAssertTrue(try BoundaryFScore(prediction: e, truth: e).f1.isNaN)
        XCTAssertEqual(try BoundaryFScore(prediction: e, truth: m).f1, 0)
        XCTAssertEqual(try BoundaryFScore(prediction: m, truth: m).f1, 1)
    }

    func testClDiceNaNOnEmptySkeleton() throws {
        let e = Grid(shape: [6, 6], repeating: false)
        var m = e
        for x in 1..<5 { m[3, x] = true }
        XCTAssertTrue(try ClDiceScore(prediction: e, truth: m).clDice.isNaN)
        XCTAssertEqual(try ClDiceScore(prediction: m, truth: m).clDice, 1)
    }

    func testDiscCircularityNearOne() throws {
        var m = Grid(shape: [101, 101], repeating: false)
        for y in 0..<101 { for x in 0..<101 where (y - 50) * (y - 50) + (x - 50) * (x - 50) <= 40 * 40 { m[y, x] = true } }
        XCTAssertEqual(try Roundness.circularity(m), 1, accuracy: 0.1)
    }

    func testLandmarkErrors() throws {
        let e = try LandmarkErrors(predicted: [[0, 0], [1, 1], [10, 0]], truth: [[0, 3], [1, 1], [10, 4]], spacing: [0.5, 0.5])
        XCTAssertEqual(e.radialErrors, [1.5, 0, 2])
        XCTAssertEqual(e.meanRadialError, 3.5 / 3, accuracy: 1e-12)
        XCTAssertEqual(e.successDetectionRate(within: 2), 100)
        XCTAssertEqual(e.successDetectionRate(within: 1), 100.0 / 3, accuracy: 1e-12)
        XCTAssertEqual(e.successDetectionRates(), [100, 100, 100, 100])
        XCTAssertThrowsError(try LandmarkErrors(predicted: [[0, 0]], truth: [], spacing: [1, 1]))
    }

    func testJSONReportFormat() throws {
        var r1 = CaseMetricsRow(caseName: "a\"b", label: 1)
        r1.dice = 0.5; r1.hd = .infinity; r1.betti0Error = 2
        var r2 = CaseMetricsRow(caseName: "c", label: 1)
        r2.dice = 1
        let json = MetricsReport.json([r1, r2])
        XCTAssertTrue(json.hasPrefix("{\"cases\":[{\"case\":\"a\\\"b\",\"label\":1,\"dice\":0.5,\"iou\":null,"), json)
        XCTAssertTrue(json.contains("\"betti0_error\":2,"), json)
        XCTAssertTrue(json.contains("\"hd\":\"inf\""), json)
        XCTAssertTrue(json.contains("\"summary\":{\"dice\":{\"mean\":0.75,\"std\":0.25,\"n\":2}"), json)
        XCTAssertNotNil(try JSONSerialization.jsonObject(with: Data(json.utf8)))
    }
}
