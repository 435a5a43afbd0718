import Geometry
import XCTest
@testable import Metrics

/// `contour metrics` keeps every case: a label absent from both masks gives a row with NaN
/// overlap and distances (undefined: 0/0) and 0 Betti errors (both sets have β = 0), the
/// MONAI/nnU-Net convention; summaries skip the NaN in means and count it (issue 15, item 9).
final class EmptyCaseTests: XCTestCase {
    func grid(_ values: [Int32]) throws -> Grid<Int32> { try Grid(shape: [4, 4], storage: values) }

    /// Case a: label 1 on 4 truth pixels, 2 predicted (Dice 2/3); case b: both masks empty.
    func scored() throws -> [(name: String, shape: [Int], spacing: [Double]?, rows: [CaseMetricsRow])] {
        var truth = [Int32](repeating: 0, count: 16), pred = truth
        for i in 0..<4 { truth[i] = 1 }
        for i in 0..<2 { pred[i] = 1 }
        let empty = try grid([Int32](repeating: 0, count: 16))
        return [("a", [4, 4], nil, try CaseMetrics.evaluate(caseName: "a", prediction: try grid(pred), truth: try grid(truth))),
                ("b", [4, 4], nil, try CaseMetrics.evaluate(caseName: "b", prediction: empty, truth: empty))]
    }

    func testABothEmptyCaseKeepsItsRow() throws {
        let cases = try scored()
        XCTAssertEqual(cases[1].rows.count, 0, "evaluate alone finds no label in an empty case")
        let rows = try CaseMetrics.keepingEveryCase(cases)
        XCTAssertEqual(rows.map(\.caseName), ["a", "b"])
        let b = rows[1]
        XCTAssertEqual(b.label, 1)
        for (name, value) in [("dice", b.dice), ("iou", b.iou), ("precision", b.precision), ("recall", b.recall),
                              ("hd", b.hd), ("hd95", b.hd95), ("assd", b.assd), ("cldice", b.cldice)] {
            XCTAssertTrue(value.isNaN, "\(name) of two empty masks is undefined, got \(value)")
        }
        XCTAssertEqual(b.betti0Error, 0)
        XCTAssertEqual(b.betti1Error, 0)
        XCTAssertEqual(b.specificity, 1, "every pixel is a true negative")

        let dice = Summary(rows.map(\.dice))
        XCTAssertEqual(dice.mean, 2.0 / 3, accuracy: 1e-12, "the mean skips NaN (nnU-Net's nanmean)")
        XCTAssertEqual(dice.n, 1)
        XCTAssertEqual(dice.undefined, 1)
        XCTAssertEqual(Summary(rows.map(\.betti0Error)).n, 2, "Betti errors are defined (0) for the empty case")

        let json = MetricsReport.json(rows)
        XCTAssertTrue(json.contains("{\"case\":\"b\",\"label\":1,\"label_name\":\"label 1\",\"dice\":null"), json)
        XCTAssertTrue(json.contains("\"dice\":{\"mean\":0.6666666666666666,\"std\":0,\"n\":1,\"nan\":1}"), json)
        XCTAssertEqual(MetricsReport.summaryLines(rows, metrics: ["dice"]),
                       ["label 1: Dice 0.6667 ± 0.0000 (n = 2, Dice undefined for 1: both masks empty)"])
    }

    func testALabelAbsentFromBothMasksOfACaseKeepsItsRow() throws {
        // Requested labels 1 and 2: case a has no 2 anywhere, b has nothing.
        let rows = try CaseMetrics.keepingEveryCase(try scored(), labels: [1, 2])
        XCTAssertEqual(rows.map { "\($0.caseName)\($0.label)" }, ["a1", "a2", "b1", "b2"])
        XCTAssertTrue(rows[1].dice.isNaN && rows[1].hd95.isNaN)
        XCTAssertEqual(rows[1].betti0Error, 0)
        // Nothing anywhere and no labels asked: the binary label 1.
        let empty = try CaseMetrics.keepingEveryCase([("z", [3, 3], nil, [])])
        XCTAssertEqual(empty.map(\.label), [1])
    }
}
