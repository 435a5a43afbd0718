import XCTest
import Geometry
@testable import Metrics

final class MetricCatalogTests: XCTestCase {
    func testCatalogNamesEveryRowColumnOnce() {
        XCTAssertEqual(MetricCatalog.names, CaseMetricsRow.columns.map(\.name))
        XCTAssertEqual(Set(MetricCatalog.names).count, MetricCatalog.all.count)
        XCTAssertTrue(MetricCatalog.all.allSatisfy { !$0.summary.isEmpty })
        // The JSON summary's columns are catalog names too.
        XCTAssertTrue(Set(MetricsReport.jsonColumns).isSubset(of: Set(MetricCatalog.names)))
    }

    func testDirections() throws {
        for name in ["dice", "iou", "precision", "recall", "specificity", "bfscore", "cldice"] {
            XCTAssertEqual(try MetricCatalog.direction(of: name), .higherIsBetter, name)
        }
        for name in ["betti0_error", "betti1_error", "betti2_error", "hd", "hd95", "assd"] {
            XCTAssertEqual(try MetricCatalog.direction(of: name), .lowerIsBetter, name)
        }
        XCTAssertEqual(try MetricCatalog.direction(of: "volume_difference"), .closerToZero)
    }

    func testUnknownMetricErrorListsTheKnownOnes() {
        XCTAssertThrowsError(try MetricCatalog.direction(of: "Dice")) { error in
            let message = "\(error)"
            XCTAssertTrue(message.contains("'Dice'"), message)
            XCTAssertTrue(message.contains("dice") && message.contains("hd95") && message.contains("betti0_error"), message)
        }
        XCTAssertThrowsError(try MetricCatalog.isBetter(1, than: 0, metric: "sensitivity"))
        XCTAssertThrowsError(try MetricCatalog.becomesBest(1, over: nil, metric: "sensitivity"))
    }

    func testIsBetterFollowsTheDirection() throws {
        XCTAssertTrue(try MetricCatalog.isBetter(0.8, than: 0.7, metric: "dice"))
        XCTAssertFalse(try MetricCatalog.isBetter(0.7, than: 0.8, metric: "dice"))
        XCTAssertFalse(try MetricCatalog.isBetter(0.8, than: 0.8, metric: "dice"), "ties keep the earlier best")
        XCTAssertTrue(try MetricCatalog.isBetter(2, than: 3, metric: "hd95"))
        XCTAssertTrue(try MetricCatalog.isBetter(3, than: .infinity, metric: "hd95"))
        XCTAssertTrue(try MetricCatalog.isBetter(-0.1, than: 0.2, metric: "volume_difference"))
        XCTAssertFalse(try MetricCatalog.isBetter(-0.3, than: 0.2, metric: "volume_difference"))
        XCTAssertFalse(try MetricCatalog.isBetter(.nan, than: 0.1, metric: "dice"))
        XCTAssertTrue(try MetricCatalog.isBetter(0.1, than: .nan, metric: "dice"))
        XCTAssertFalse(try MetricCatalog.isBetter(.nan, than: .nan, metric: "hd95"))
    }

    /// Feeds validation values one epoch at a time, as the trainer does.
    func bestOf(_ values: [Double], metric: String) throws -> (value: Double, epoch: Int)? {
        var best: (value: Double, epoch: Int)?
        for (i, v) in values.enumerated() where try MetricCatalog.becomesBest(v, over: best, metric: metric) {
            best = (v, i + 1)
        }
        return best
    }

    func testNaNNeverBecomesBestNorBlocksALaterValue() throws {
        // First NaN, then finite: the finite value becomes best.
        let a = try XCTUnwrap(try bestOf([.nan, 0.4], metric: "dice"))
        XCTAssertEqual(a.value, 0.4)
        XCTAssertEqual(a.epoch, 2)
        // Finite, then NaN: the finite value stays.
        let b = try XCTUnwrap(try bestOf([0.4, .nan], metric: "dice"))
        XCTAssertEqual(b.value, 0.4)
        XCTAssertEqual(b.epoch, 1)
        // Lower is better, with NaN in between.
        let c = try XCTUnwrap(try bestOf([5, .nan, 3, .nan, 4], metric: "hd95"))
        XCTAssertEqual(c.value, 3)
        XCTAssertEqual(c.epoch, 3)
        // Only NaN: nothing is best.
        XCTAssertNil(try bestOf([.nan, .nan], metric: "dice"))
        // A NaN best carried over from an older checkpoint gives way to a finite value.
        XCTAssertTrue(try MetricCatalog.becomesBest(0.1, over: (.nan, 1), metric: "dice"))
        XCTAssertFalse(try MetricCatalog.becomesBest(.nan, over: (.nan, 1), metric: "dice"))
    }

    func testInfiniteDistanceIsKeptUntilAFiniteOneComes() throws {
        // hd95 is +inf when the prediction is empty: still a defined value, worse than any finite one.
        let best = try XCTUnwrap(try bestOf([.infinity, 7, .infinity], metric: "hd95"))
        XCTAssertEqual(best.value, 7)
        XCTAssertEqual(best.epoch, 2)
    }
}
