import Foundation
import Metrics
import XCTest
@testable import Training

/// summary.json, metrics.csv, validation means and the report per label (issue 18, item 8).
final class PerLabelSummaryTests: XCTestCase {
    /// convex: Dice 0.9 and 0.5 (mean 0.7); nonconvex: 0.2 and undefined (mean 0.2, n 1).
    /// Foreground mean 0.45; pooling the three defined rows would give 0.5333.
    func rows() -> [CaseMetricsRow] {
        var a1 = CaseMetricsRow(caseName: "a", label: 1), a2 = CaseMetricsRow(caseName: "a", label: 2)
        var b1 = CaseMetricsRow(caseName: "b", label: 1), b2 = CaseMetricsRow(caseName: "b", label: 2)
        a1.dice = 0.9; b1.dice = 0.5; a2.dice = 0.2; b2.dice = .nan
        return [a1, a2, b1, b2]
    }

    func testWriteNamesLabelsInBothFiles() throws {
        let folder = NSTemporaryDirectory() + "contour-summary-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try Evaluation.write(rows(), to: folder, names: LabelNames(datasetLabels: ["background": 0, "convex": 1, "nonconvex": 2]))
        let csv = try String(contentsOfFile: "\(folder)/metrics.csv", encoding: .utf8).split(separator: "\n")
        XCTAssertTrue(csv[0].hasPrefix("case,label,label_name,"))
        XCTAssertEqual(csv.dropFirst().map { $0.split(separator: ",", omittingEmptySubsequences: false)[2] },
                       ["convex", "nonconvex", "convex", "nonconvex"])
        let summary = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(folder)/summary.json")))
            as? [String: Any])
        let labels = try XCTUnwrap(summary["labels"] as? [[String: Any]])
        XCTAssertEqual(labels.map { $0["name"] as? String }, ["convex", "nonconvex"])
        let means = labels.map { (($0["metrics"] as? [String: Any])?["dice"] as? [String: Any])?["mean"] as? Double ?? .nan }
        XCTAssertEqual(means[0], 0.7, accuracy: 1e-12)
        XCTAssertEqual(means[1], 0.2, accuracy: 1e-12)
        XCTAssertEqual((summary["foreground mean"] as? [String: Any])?["dice"] as? Double ?? .nan, 0.45, accuracy: 1e-12)
    }

    func testValidationMeansAreForegroundMeans() {
        XCTAssertEqual(Evaluation.means(rows())["dice"] ?? .nan, 0.45, accuracy: 1e-12)
        XCTAssertNil(Evaluation.means(rows())["cldice"], "undefined everywhere: absent")
        // One label: the plain mean over cases.
        XCTAssertEqual(Evaluation.means(rows().filter { $0.label == 1 })["dice"] ?? .nan, 0.7, accuracy: 1e-12)
    }

    func testReportHasAPerLabelTable() throws {
        let labels = LabelSummary.perLabel(rows(), names: LabelNames([1: "convex", 2: "non<convex>"]))
        let html = try RunReport.html(title: "t", records: [], finalMetrics: [], overlays: [], labels: labels)
        XCTAssertTrue(html.contains("<th>convex (1)</th><th>non&lt;convex&gt; (2)</th><th>foreground mean</th>"), html)
        XCTAssertTrue(html.contains("<tr><td>Dice</td><td>0.7000 ± 0.2000 (n = 2)</td><td>0.2000 ± 0.0000 (n = 1)</td><td>0.4500</td></tr>"), html)
        XCTAssertFalse(html.contains("<td>clDice</td>"), "metrics undefined for every label are left out")
    }
}
