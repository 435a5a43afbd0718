import Foundation
import Metrics
import XCTest

/// Summaries per label with names and the foreground mean (issue 18, item 8).
final class LabelSummaryTests: XCTestCase {
    /// Two labels: liver on two cases (Dice 0.8, 0.6), spleen on one (0.4) and undefined on the
    /// other (both masks empty). Per label: 0.7 ± 0.1 (n 2) and 0.4 (n 1); foreground mean 0.55,
    /// where pooling all rows would give 0.6.
    func rows() -> [CaseMetricsRow] {
        var a1 = CaseMetricsRow(caseName: "a", label: 1), a2 = CaseMetricsRow(caseName: "a", label: 2)
        var b1 = CaseMetricsRow(caseName: "b", label: 1), b2 = CaseMetricsRow(caseName: "b", label: 2)
        a1.dice = 0.8; a1.hd95 = 2
        b1.dice = 0.6; b1.hd95 = 4
        a2.dice = 0.4; a2.hd95 = 10
        b2.dice = .nan
        return [a1, a2, b1, b2]
    }

    let names = LabelNames([1: "liver", 2: "spleen"])

    func testPerLabelMeansAndForegroundMean() throws {
        let labels = LabelSummary.perLabel(rows(), names: names)
        XCTAssertEqual(labels.map(\.label), [1, 2])
        XCTAssertEqual(labels.map(\.name), ["liver", "spleen"])
        let liver = try XCTUnwrap(labels[0]["dice"]), spleen = try XCTUnwrap(labels[1]["dice"])
        XCTAssertEqual(liver.mean, 0.7, accuracy: 1e-12)
        XCTAssertEqual(liver.std, 0.1, accuracy: 1e-12)
        XCTAssertEqual(liver.n, 2)
        XCTAssertEqual(spleen.mean, 0.4, accuracy: 1e-12)
        XCTAssertEqual(spleen.n, 1)
        XCTAssertEqual(labels[0]["hd95"]?.mean ?? .nan, 3, accuracy: 1e-12)
        let foreground = Dictionary(uniqueKeysWithValues: LabelSummary.foregroundMean(labels).map { ($0.name, $0.mean) })
        XCTAssertEqual(foreground["dice"]!, 0.55, accuracy: 1e-12)
        XCTAssertEqual(foreground["hd95"]!, (3 + 10) / 2, accuracy: 1e-12)
        XCTAssertTrue(foreground["cldice"]!.isNaN, "undefined for every label")
    }

    func testSummaryJSONHasNamedLabelsAndForegroundMean() throws {
        let json = MetricsReport.json(rows(), names: names)
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        let cases = try XCTUnwrap(object["cases"] as? [[String: Any]])
        XCTAssertEqual(cases.map { $0["label_name"] as? String }, ["liver", "spleen", "liver", "spleen"])
        let labels = try XCTUnwrap(object["labels"] as? [[String: Any]])
        XCTAssertEqual(labels.map { $0["name"] as? String }, ["liver", "spleen"])
        XCTAssertEqual(labels.map { $0["value"] as? Int }, [1, 2])
        let liverDice = try XCTUnwrap((labels[0]["metrics"] as? [String: Any])?["dice"] as? [String: Any])
        XCTAssertEqual(liverDice["mean"] as? Double ?? .nan, 0.7, accuracy: 1e-12)
        XCTAssertEqual(liverDice["std"] as? Double ?? .nan, 0.1, accuracy: 1e-12)
        XCTAssertEqual(liverDice["n"] as? Int, 2)
        let spleenDice = try XCTUnwrap((labels[1]["metrics"] as? [String: Any])?["dice"] as? [String: Any])
        XCTAssertEqual(spleenDice["mean"] as? Double ?? .nan, 0.4, accuracy: 1e-12)
        XCTAssertEqual(spleenDice["n"] as? Int, 1)
        let foreground = try XCTUnwrap(object["foreground mean"] as? [String: Any])
        XCTAssertEqual(foreground["dice"] as? Double ?? .nan, 0.55, accuracy: 1e-12)
        XCTAssertTrue(foreground["cldice"] is NSNull, "undefined metrics are null")
        // The pooled summary stays, and differs: (0.8 + 0.6 + 0.4) / 3.
        let pooled = try XCTUnwrap((object["summary"] as? [String: Any])?["dice"] as? [String: Any])
        XCTAssertEqual(pooled["mean"] as? Double ?? .nan, 0.6, accuracy: 1e-12)
    }

    func testCSVHasALabelNameColumn() {
        let lines = MetricsReport.csv(rows(), names: LabelNames([1: "liver, left lobe"])).split(separator: "\n").map(String.init)
        XCTAssertTrue(lines[0].hasPrefix("case,label,label_name,dice,"), lines[0])
        XCTAssertTrue(lines[1].hasPrefix("a,1,\"liver, left lobe\",0.8,"), lines[1])
        XCTAssertTrue(lines[2].hasPrefix("a,2,label 2,0.4,"), lines[2])
    }

    func testConsoleLinesPerLabelThenForegroundMean() {
        let lines = MetricsReport.summaryLines(rows(), names: names, metrics: ["dice", "hd95", "cldice"])
        XCTAssertEqual(lines, [
            "liver (label 1): Dice 0.7000 ± 0.1000, HD95 3.0000 ± 1.0000 (n = 2)",
            "spleen (label 2): Dice 0.4000 ± 0.0000, HD95 10.0000 ± 0.0000 (n = 2, Dice undefined for 1: both masks empty)",
            "foreground mean (2 labels): Dice 0.5500, HD95 6.5000",
        ])
        var infinite = rows()
        infinite[2].hd95 = .infinity
        XCTAssertEqual(MetricsReport.summaryLines(infinite, names: names, metrics: ["hd95"])[0], "liver (label 1): HD95 inf (n = 2)")
        // One label: no foreground line.
        XCTAssertEqual(MetricsReport.summaryLines(rows().filter { $0.label == 1 }, metrics: ["dice"]),
                       ["label 1: Dice 0.7000 ± 0.1000 (n = 2)"])
    }

    func testLabelNamesFromDatasetAndArgument() throws {
        let fromDataset = LabelNames(datasetLabels: ["background": 0, "liver": 1, "spleen": 2])
        XCTAssertEqual(fromDataset.names, [1: "liver", 2: "spleen"])
        XCTAssertEqual(fromDataset.name(of: 3), "label 3")
        let parsed = try LabelNames.parse("2=spleen, 1 = liver,3")
        XCTAssertEqual(parsed.labels, [2, 1, 3])
        XCTAssertEqual(parsed.names.names, [1: "liver", 2: "spleen"])
        for bad in ["a", "1=", "1,1", "0=background", ""] {
            XCTAssertThrowsError(try LabelNames.parse(bad), bad) { error in
                XCTAssertTrue("\(error)".contains("--labels"), "\(error)")
            }
        }
    }
}
