import Foundation
import XCTest
@testable import Training

/// How log.jsonl and the report's charts treat infinite and NaN values (README, "Outputs").
final class ReportTests: XCTestCase {
    var dir: String!

    override func setUpWithError() throws {
        dir = NSTemporaryDirectory() + "contour-report-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: dir) }

    func testLogWritesInfAsStringsAndNaNAsNull() throws {
        let log = RunLog(path: "\(dir!)/log.jsonl")
        try log.append(EpochRecord(epoch: 1, trainLoss: .nan, objectives: ["ce": .infinity, "dice": 0.25], learningRate: 0.01,
                                   seconds: 1.5, skippedSteps: 2, validation: ["hd95": -.infinity, "dice": .nan, "cldice": 0.5]))
        let line = try String(contentsOfFile: log.path, encoding: .utf8)
        XCTAssertEqual(line, #"{"epoch":1,"lr":0.01,"objectives":{"ce":"inf","dice":0.25},"seconds":1.5,"skipped_steps":2,"train_loss":null,"validation":{"cldice":0.5,"dice":null,"hd95":"-inf"}}"# + "\n")
        // Python reads it with json.loads as it is: NaN → None, the strings stay strings.
        let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
        XCTAssertTrue(object["train_loss"] is NSNull)

        let back = try log.read()
        XCTAssertEqual(back.count, 1)
        XCTAssertTrue(back[0].trainLoss.isNaN)
        XCTAssertEqual(back[0].objectives["ce"], .infinity)
        XCTAssertEqual(back[0].validation?["hd95"], -.infinity)
        XCTAssertTrue(back[0].validation?["dice"]?.isNaN ?? false)
        XCTAssertEqual(back[0].validation?["cldice"], 0.5)
    }

    func testLogReadsTheOldNaNStringsAndNamesABadLine() throws {
        let path = "\(dir!)/log.jsonl"
        try """
        {"epoch":1,"lr":0.01,"objectives":{"ce":"nan"},"seconds":1,"skipped_steps":0,"train_loss":"nan","validation":{"hd95":"inf"}}
        {"epoch":2,"lr":"fast","objectives":{},"seconds":1,"skipped_steps":0,"train_loss":1}

        """.write(toFile: path, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try RunLog(path: path).read()) {
            XCTAssertEqual("\($0)", "\(path):2: not an epoch record of log.jsonl (lr: expected a number, \"inf\", \"-inf\" or null, found \"fast\")")
        }
        try String(try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")[0] + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        let records = try RunLog(path: path).read()
        XCTAssertTrue(records[0].trainLoss.isNaN)
        XCTAssertTrue(records[0].objectives["ce"]?.isNaN ?? false)
        XCTAssertEqual(records[0].validation?["hd95"], .infinity)
    }

    /// One epoch: one point in the middle and one axis label, not "epoch 1" at both ends.
    func testChartOfOneEpochHasOneAxisLabel() {
        let svg = RunReport.chart(title: "training loss", series: [("loss", [(1, 0.7)])])
        XCTAssertEqual(svg.components(separatedBy: "epoch 1").count - 1, 1, svg)
        XCTAssertTrue(svg.contains(#"<text x="202.0" y="210.0" text-anchor="middle">epoch 1</text>"#), svg)
        XCTAssertTrue(svg.contains(#"<circle cx="202.0" cy="#), svg)
        XCTAssertFalse(svg.contains("<polyline"), svg)
        // A flat series gets a small range around its value, so the axis still reads 0.7.
        XCTAssertTrue(svg.contains(">0.7700</text>") && svg.contains(">0.6300</text>"), svg)
    }

    /// A NaN loss and an infinite HD95 are not drawn, break the line, and are counted.
    func testChartSkipsNonFinitePointsAndBreaksTheLine() throws {
        let svg = RunReport.chart(title: "validation hd95", series: [("hd95", [(1, 4), (2, .infinity), (3, 3), (4, 2), (5, .nan)])])
        XCTAssertFalse(svg.lowercased().contains("nan") || svg.contains("inf"), svg)
        XCTAssertTrue(svg.contains("2 non-finite not shown"), svg)
        XCTAssertEqual(svg.components(separatedBy: "<polyline").count - 1, 1, "epoch 1 stands alone; epochs 3–4 make one line: \(svg)")
        XCTAssertEqual(svg.components(separatedBy: "<circle").count - 1, 3, svg)
        XCTAssertTrue(svg.contains(">epoch 1</text>") && svg.contains(">epoch 4</text>"), svg)
        let none = RunReport.chart(title: "validation dice", series: [("dice", [(1, .nan)])])
        XCTAssertTrue(none.contains("no data") && none.contains("1 non-finite not shown"), none)

        let records = (1...3).map { EpochRecord(epoch: $0, trainLoss: $0 == 2 ? .nan : 1 / Double($0), objectives: [:], learningRate: 0.01,
                                                  seconds: 1, skippedSteps: 0, validation: ["hd95": $0 == 3 ? .infinity : 5]) }
        let html = try RunReport.html(title: "run", records: records, finalMetrics: [], overlays: [])
        XCTAssertTrue(html.contains("<svg") && !html.contains("nan,") && !html.contains("inf,"))
        XCTAssertEqual(html.components(separatedBy: "1 non-finite not shown").count - 1, 2, "loss and hd95 each skip one")
    }
}
