import ArgumentParser
import ContourCLI
import Foundation
import Geometry
import Imaging
import XCTest

/// `contour metrics` and `contour evaluate` with two foreground labels: per-label summaries
/// with names and the foreground mean (issue 18, item 8).
final class PerLabelSummaryCommandTests: XCTestCase {
    var dir: String!

    override func setUpWithError() throws {
        dir = NSTemporaryDirectory() + "contour-labels-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: dir) }

    func contour(_ args: [String]) async throws {
        var command = try Contour.parseAsRoot(args)
        if var asyncCommand = command as? AsyncParsableCommand { try await asyncCommand.run() } else { try command.run() }
    }

    /// Runs the built binary; stdout and the exit status.
    func runBinary(_ args: [String]) throws -> (String, Int32) {
        let binary = try contourBinary()
        let p = Process(), out = Pipe()
        p.executableURL = binary
        p.arguments = args
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        try p.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        return (text, p.terminationStatus)
    }

    /// 4×4 masks, liver (1) in row 0 and spleen (2) in row 2 of the truth:
    /// a: liver predicted on 2 of 4 pixels (Dice 2/3), spleen exactly (1);
    /// b: liver exactly (1), spleen missed (0);
    /// c: liver on 3 of 4 (6/7), no spleen in either (undefined).
    func writeMasks() throws {
        for folder in ["pred", "truth"] { try FileManager.default.createDirectory(atPath: "\(dir!)/\(folder)", withIntermediateDirectories: true) }
        func mask(liver: Int, spleen: Int) throws -> Grid<UInt16> {
            var values = [UInt16](repeating: 0, count: 16)
            for x in 0..<liver { values[x] = 1 }
            for x in 0..<spleen { values[8 + x] = 2 }
            return try Grid(shape: [4, 4], storage: values)
        }
        for (name, truth, pred) in [("a", (4, 4), (2, 4)), ("b", (4, 4), (4, 0)), ("c", (4, 0), (3, 0))] {
            try PNGFile.write(try mask(liver: truth.0, spleen: truth.1), path: "\(dir!)/truth/\(name).png")
            try PNGFile.write(try mask(liver: pred.0, spleen: pred.1), path: "\(dir!)/pred/\(name).png")
        }
    }

    let liver = (2.0 / 3 + 1 + 6.0 / 7) / 3, spleen = 0.5

    func testMetricsJSONSummarisesEachNamedLabel() throws {
        try writeMasks()
        let (json, status) = try runBinary(["metrics", "--pred", "\(dir!)/pred", "--truth", "\(dir!)/truth",
                                            "--labels", "1=liver,2=spleen", "--no-topology", "--json"])
        XCTAssertEqual(status, 0, json)
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        let labels = try XCTUnwrap(object["labels"] as? [[String: Any]])
        XCTAssertEqual(labels.map { $0["name"] as? String }, ["liver", "spleen"])
        func dice(_ i: Int) -> [String: Any] { ((labels[i]["metrics"] as? [String: Any])?["dice"] as? [String: Any]) ?? [:] }
        XCTAssertEqual(dice(0)["mean"] as? Double ?? .nan, liver, accuracy: 1e-9)
        XCTAssertEqual(dice(0)["n"] as? Int, 3)
        XCTAssertEqual(dice(1)["mean"] as? Double ?? .nan, spleen, accuracy: 1e-9)
        XCTAssertEqual(dice(1)["std"] as? Double ?? .nan, 0.5, accuracy: 1e-9)
        XCTAssertEqual(dice(1)["n"] as? Int, 2, "case c has no spleen: undefined, not counted")
        let foreground = try XCTUnwrap(object["foreground mean"] as? [String: Any])
        XCTAssertEqual(foreground["dice"] as? Double ?? .nan, (liver + spleen) / 2, accuracy: 1e-9)
        let cases = try XCTUnwrap(object["cases"] as? [[String: Any]])
        XCTAssertEqual(cases.map { $0["label_name"] as? String }, ["liver", "spleen", "liver", "spleen", "liver", "spleen"])
    }

    func testMetricsTableHasAMeanPerLabelAndTheForegroundMean() throws {
        try writeMasks()
        let (table, status) = try runBinary(["metrics", "--pred", "\(dir!)/pred", "--truth", "\(dir!)/truth",
                                             "--labels", "1=liver,2=spleen", "--no-topology"])
        XCTAssertEqual(status, 0, table)
        let lines = table.split(separator: "\n").map { $0.split(separator: "\t", omittingEmptySubsequences: false).map(String.init) }
        XCTAssertEqual(lines[0].prefix(4), ["case", "label", "name", "dice"])
        XCTAssertEqual(lines[1].prefix(4), ["a", "1", "liver", "0.6667"])
        XCTAssertEqual(lines.first { $0[0] == "mean" && $0[1] == "1" }?.prefix(4), ["mean", "1", "liver", String(format: "%.4f", liver)])
        XCTAssertEqual(lines.first { $0[0] == "mean" && $0[1] == "2" }?.prefix(4), ["mean", "2", "spleen", "0.5000"])
        XCTAssertEqual(lines.last?.prefix(4), ["foreground mean", "", "", String(format: "%.4f", (liver + spleen) / 2)])
    }

    func testMetricsReadsLabelNamesFromADatasetJSON() async throws {
        try writeMasks()
        try #"{"channel_names": {"0": "CT"}, "labels": {"background": 0, "liver": 1, "spleen": 2}, "numTraining": 3, "file_ending": ".png"}"#
            .write(toFile: "\(dir!)/dataset.json", atomically: true, encoding: .utf8)
        try await contour(["metrics", "--pred", "\(dir!)/pred", "--truth", "\(dir!)/truth", "--dataset", dir!,
                           "--no-topology", "--csv", "\(dir!)/m.csv"])
        let rows = try String(contentsOfFile: "\(dir!)/m.csv", encoding: .utf8).split(separator: "\n").map { $0.split(separator: ",").map(String.init) }
        XCTAssertEqual(rows[0].prefix(3), ["case", "label", "label_name"])
        // Without --labels, every label present in any case is scored in every case: c keeps a spleen
        // row though neither of its masks has spleen, with Dice undefined (empty) and β0 error 0 (issue 15).
        XCTAssertEqual(rows.dropFirst().map { "\($0[0]) \($0[2])" }, ["a liver", "a spleen", "b liver", "b spleen", "c liver", "c spleen"])
        let csvLines = try String(contentsOfFile: "\(dir!)/m.csv", encoding: .utf8).split(separator: "\n")
        XCTAssertTrue(csvLines[6].hasPrefix("c,2,spleen,,"), "Dice of c's spleen is NaN, an empty CSV field: \(csvLines[6])")
        do {
            try await contour(["metrics", "--pred", "\(dir!)/pred", "--truth", "\(dir!)/truth", "--dataset", "\(dir!)/pred"])
            XCTFail("a folder without dataset.json is an error")
        } catch {
            XCTAssertTrue("\(error)".contains("\(dir!)/pred/dataset.json"), "\(error)")
        }
    }

    /// `contour evaluate` on the blobs demo data (convex = 1, nonconvex = 2): summary.json's
    /// per-label means are the means of metrics.csv's rows of each label.
    func testEvaluateWritesNamedPerLabelSummaries() async throws {
        try DemoData.write(kind: .blobs, to: "\(dir!)/data", trainCount: 4, testCount: 0, seed: 5)
        try """
        data: {dataset: \(dir!)/data, patchSize: [32, 32], batchSize: 2, workers: 1, preset: none}
        model: {name: unet2d, options: {stages: 2, baseWidth: 4}}
        objectives: [cedice]
        optimizer: {name: adam, learningRate: 0.01}
        run: {epochs: 1, iterationsPerEpoch: 1, seed: 1, threads: 1, output: \(dir!)/run}
        """.write(toFile: "\(dir!)/run.yaml", atomically: true, encoding: .utf8)
        try await contour(["train", "--config", "\(dir!)/run.yaml", "--quiet"])
        try await contour(["evaluate", "--checkpoint", "\(dir!)/run", "--dataset", "\(dir!)/data", "--split", "all",
                           "--no-topology", "--output", "\(dir!)/eval"])

        let csv = try String(contentsOfFile: "\(dir!)/eval/metrics.csv", encoding: .utf8).split(separator: "\n")
            .map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        XCTAssertEqual(csv[0].prefix(4), ["case", "label", "label_name", "dice"])
        var dice: [String: [Double]] = [:]
        for row in csv.dropFirst() where !row[3].isEmpty { dice[row[2], default: []].append(Double(row[3])!) }
        XCTAssertEqual(Set(csv.dropFirst().map { $0[2] }), ["convex", "nonconvex"])

        let summary = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(dir!)/eval/summary.json")))
            as? [String: Any])
        let labels = try XCTUnwrap(summary["labels"] as? [[String: Any]])
        XCTAssertEqual(labels.map { $0["name"] as? String }, ["convex", "nonconvex"])
        var means: [Double] = []
        for label in labels {
            let name = label["name"] as! String
            let values = try XCTUnwrap(dice[name])
            let s = try XCTUnwrap((label["metrics"] as? [String: Any])?["dice"] as? [String: Any])
            let expected = values.reduce(0, +) / Double(values.count)
            XCTAssertEqual(s["mean"] as? Double ?? .nan, expected, accuracy: 1e-9, name)
            XCTAssertEqual(s["n"] as? Int, values.count, name)
            means.append(expected)
        }
        let foreground = try XCTUnwrap(summary["foreground mean"] as? [String: Any])
        XCTAssertEqual(foreground["dice"] as? Double ?? .nan, means.reduce(0, +) / 2, accuracy: 1e-9)
    }
}
