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
        XCTAssertTrue(json.hasPrefix("{\"cases\":[{\"case\":\"a\\\"b\",\"label\":1,\"label_name\":\"label 1\",\"dice\":0.5,\"iou\":null,"), json)
        XCTAssertTrue(json.contains("\"betti0_error\":2,"), json)
        XCTAssertTrue(json.contains("\"hd\":\"inf\""), json)
        XCTAssertTrue(json.contains("\"summary\":{\"dice\":{\"mean\":0.75,\"std\":0.25,\"n\":2,\"nan\":0}"), json)
        XCTAssertNotNil(try JSONSerialization.jsonObject(with: Data(json.utf8)))
    }
}

final class PercentileSelectionTests: XCTestCase {
    func testSelectionAgreesWithSorting() {
        var rng = SystemRandomNumberGenerator()
        for n in [1, 2, 3, 10, 101, 1000] {
            for _ in 0..<20 {
                // Few distinct values too, to exercise ties.
                let values = (0..<n).map { _ in Double(Int.random(in: 0..<max(2, n / 3), using: &rng)) / 7 }
                let sorted = values.sorted()
                for q in [0.0, 5, 50, 95, 99.5, 100] {
                    let pos = q / 100 * Double(n - 1)
                    let lo = Int(pos.rounded(.down)), hi = Int(pos.rounded(.up))
                    let expected = sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - Double(lo))
                    XCTAssertEqual(SurfaceDistances.percentile(values, q), expected, accuracy: 1e-12, "n \(n) q \(q)")
                }
            }
        }
        XCTAssertEqual(SurfaceDistances.percentile([1, .infinity, .infinity], 95), .infinity)
    }
}

final class RoundnessComparisonTests: XCTestCase {
    func testSquareAgainstDisc() throws {
        var square = Grid(shape: [40, 40], repeating: false), disc = square
        for y in 10..<30 { for x in 10..<30 { square[y, x] = true } }
        for y in 0..<40 { for x in 0..<40 where (y - 20) * (y - 20) + (x - 20) * (x - 20) <= 12 * 12 { disc[y, x] = true } }
        let r = try RoundnessComparison(prediction: square, truth: disc)
        // 4πA/P² with A = 400 pixels; a square is less round than a disc.
        XCTAssertEqual(r.prediction, 4 * Double.pi * 400 / pow(try Roundness.perimeter(square), 2), accuracy: 1e-12)
        XCTAssertLessThan(r.prediction, r.truth)
        XCTAssertEqual(r.difference, r.truth - r.prediction, accuracy: 1e-12)
        XCTAssertEqual(r.predictionInstances, 1)
        XCTAssertEqual(r.truthInstances, 1)
    }
}
