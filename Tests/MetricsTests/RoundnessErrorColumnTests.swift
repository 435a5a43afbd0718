import XCTest
import Geometry
@testable import Metrics

/// The `roundness_error` column: |circularity(A) − circularity(G)| per 2D case, NaN in 3D.
final class RoundnessErrorColumnTests: XCTestCase {
    func mask(_ shape: [Int], _ inside: (Int, Int) -> Bool) throws -> Grid<Bool> {
        try Grid(shape: shape, storage: (0..<(shape[0] * shape[1])).map { inside($0 / shape[1], $0 % shape[1]) })
    }

    func testRoundnessErrorIsTheCircularityDifference() throws {
        let disc = try mask([64, 64]) { y, x in (y - 32) * (y - 32) + (x - 32) * (x - 32) <= 15 * 15 }
        let bar = try mask([64, 64]) { y, x in y >= 28 && y < 36 && x >= 8 && x < 56 }
        let row = try CaseMetrics.evaluate(caseName: "c", label: 1, prediction: bar, truth: disc)
        let expected = abs(try Roundness.circularity(bar) - Roundness.circularity(disc))
        XCTAssertEqual(row.roundnessError, expected, accuracy: 1e-12)
        XCTAssertGreaterThan(row.roundnessError, 0.2, "a 6:1 bar is far less round than a disc")
        XCTAssertEqual(try CaseMetrics.evaluate(caseName: "c", label: 1, prediction: disc, truth: disc).roundnessError, 0)
        XCTAssertTrue(try CaseMetrics.evaluate(caseName: "c", label: 1, prediction: try mask([64, 64]) { _, _ in false }, truth: disc)
            .roundnessError.isNaN, "empty prediction")
        XCTAssertTrue(CaseMetricsRow.columns.contains { $0.name == "roundness_error" })
        XCTAssertEqual(try MetricCatalog.info("roundness_error").direction, .lowerIsBetter)
    }
}
