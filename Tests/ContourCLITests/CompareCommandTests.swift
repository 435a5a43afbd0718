import Foundation
import Imaging
@testable import Training
import XCTest

/// `contour compare` end to end with the built binary (its runs are subprocesses of it): a tiny
/// 2D U-Net, 2 working variants and 1 that fails, 1 seed × 2 folds, one run interrupted beforehand.
final class CompareCommandTests: XCTestCase {
    var dir: String!

    override func setUpWithError() throws {
        dir = NSTemporaryDirectory() + "contour-compare-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: dir) }

    /// Runs `contour ARGS`; (exit status, stdout, stderr).
    func contour(_ args: [String]) throws -> (Int32, String, String) {
        let p = Process(), out = Pipe(), err = Pipe()
        p.executableURL = try contourBinary()
        p.arguments = args
        var env = ProcessInfo.processInfo.environment
        env["OMP_NUM_THREADS"] = "1"
        p.environment = env
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile(), e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
    }

    func writeBase() throws -> String {
        try DemoData.write(kind: .tubular, to: "\(dir!)/data", trainCount: 8, testCount: 0, seed: 5)
        let yaml = """
        data: {dataset: \(dir!)/data, folds: 2, patchSize: [32, 32], batchSize: 2, preset: none}
        model: {name: unet2d, options: {stages: 2, baseWidth: 2}}
        objectives: cedice
        optimizer: {name: adam, learningRate: 0.001}
        run: {epochs: 2, iterationsPerEpoch: 1, validationInterval: 2, threads: 1, tensorboard: false}
        """
        try yaml.write(toFile: "\(dir!)/base.yaml", atomically: true, encoding: .utf8)
        return "\(dir!)/base.yaml"
    }

    func testCompareRunsResumesKeepsFinishedAndReportsAFailedVariant() throws {
        _ = try contourBinary()
        let base = try writeBase()
        let out = "\(dir!)/cmp"
        let args = ["compare", "--config", base, "--vary", "objectives=cedice|ce|heatmap-mse", "--folds", "0,1", "--seeds", "0",
                    "--output", out, "--metrics", "dice,hd95", "--resamples", "500"]
        // --dry-run finds the variant whose objective reads a head the model lacks; the real run lets it fail alone.
        let (dry, _, dryErr) = try contour(args + ["--dry-run"])
        XCTAssertNotEqual(dry, 0)
        XCTAssertTrue(dryErr.contains("variant heatmap-mse") && dryErr.contains("reads head 'heatmaps'"), dryErr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out))
        // An interrupted run of cedice, fold 0: one of its two epochs, as a kill after the first checkpoint leaves it.
        let plan = try ComparisonPlan.make(config: base, vary: ["objectives=cedice|ce|heatmap-mse"], set: [], seeds: [0], folds: [0, 1],
                                           reference: nil, metrics: nil, output: out)
        XCTAssertEqual(plan.variants.map(\.name), ["cedice", "ce", "heatmap-mse"])
        XCTAssertEqual(plan.runs.count, 6)
        let interrupted = plan.runs[0]
        var config = plan.variants[0].config
        config.run.output = interrupted.folder
        _ = try Trainer(config: config, quiet: true).train(untilEpoch: 1)
        XCTAssertEqual(try RunLog(path: "\(interrupted.folder)/log.jsonl").read().count, 1)
        // A run of ce killed before its first checkpoint: it starts again, its remains moved aside.
        let killed = plan.runs[2]
        XCTAssertEqual(killed.variant, "ce")
        try FileManager.default.createDirectory(atPath: killed.folder, withIntermediateDirectories: true)
        try "# killed before the first checkpoint\n".write(toFile: "\(killed.folder)/config.yaml", atomically: true, encoding: .utf8)

        let started = Date()
        let (status, stdout, stderr) = try contour(args)
        let seconds = Date().timeIntervalSince(started)
        // The failed variant makes the command fail after writing the report of the others.
        XCTAssertEqual(status, 1, stderr)
        XCTAssertTrue(stderr.contains("heatmap-mse"), stderr)
        XCTAssertTrue(stderr.contains("resuming the interrupted run"), stderr)
        XCTAssertTrue(stderr.contains("[6/6]"), stderr)
        XCTAssertTrue(stdout.contains("| cedice (ref) |"), stdout)
        XCTAssertEqual(try RunLog(path: "\(interrupted.folder)/log.jsonl").read().map(\.epoch), [1, 2], "the interrupted run continued")
        XCTAssertTrue(stderr.contains("[ce seed 0 fold 0] restarting (no checkpoint yet)"), stderr)
        let aside = try FileManager.default.contentsOfDirectory(atPath: "\(out)/runs/ce").filter { $0.hasPrefix("seed0-fold0.replaced-") }
        XCTAssertEqual(aside.count, 1)
        print("compare: 6 runs in \(String(format: "%.1f", seconds)) s")

        // compare.csv: long format, 2 variants × 8 cases (2 folds × 4) × 2 metrics.
        let csv = try String(contentsOfFile: "\(out)/compare.csv", encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(csv.first, "variant,seed,fold,case,metric,value")
        XCTAssertEqual(csv.count, 1 + 2 * 8 * 2)
        XCTAssertFalse(csv.contains { $0.hasPrefix("heatmap-mse,") })
        // compare.json: the test of ce against cedice on 8 pairs, Holm-adjusted, and the failure with its error.
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(out)/compare.json"))) as! [String: Any]
        let comparison = json["comparison"] as! [String: Any]
        XCTAssertEqual(comparison["reference"] as? String, "cedice")
        let dice = (comparison["metrics"] as! [[String: Any]]).first { $0["metric"] as? String == "dice" }!
        let test = (dice["tests"] as! [[String: Any]])[0]
        XCTAssertEqual(test["variant"] as? String, "ce")
        XCTAssertEqual(test["pairs"] as? Int, 8)
        let failures = json["failures"] as! [[String: String]]
        XCTAssertEqual(Set(failures.map { $0["variant"]! }), ["heatmap-mse"])
        XCTAssertTrue(failures[0]["error"]!.contains("contour train failed"), failures[0]["error"]!)
        let md = try String(contentsOfFile: "\(out)/compare.md", encoding: .utf8)
        XCTAssertTrue(md.contains("Failed (left out of the statistics)") && md.contains("heatmap-mse"), md)
        let html = try String(contentsOfFile: "\(out)/compare.html", encoding: .utf8)
        for kind in ["class=\"box\"", "class=\"diff\"", "class=\"curve\"", "class=\"rank\""] { XCTAssertTrue(html.contains(kind), kind) }
        XCTAssertTrue(html.contains("--vary 'objectives=cedice|ce|heatmap-mse'") && html.contains("<summary>ce</summary>"), "the command and the configs")

        // Again: the finished runs are kept (their evaluations untouched), only the failed variant is retried.
        let kept = "\(out)/runs/ce/seed0-fold1/evaluation-val/metrics.csv"
        let before = try FileManager.default.attributesOfItem(atPath: kept)[.modificationDate] as! Date
        let (again, _, stderr2) = try contour(args)
        XCTAssertEqual(again, 1)
        XCTAssertEqual(stderr2.components(separatedBy: "done already").count - 1, 4, stderr2)
        XCTAssertEqual(try FileManager.default.attributesOfItem(atPath: kept)[.modificationDate] as! Date, before)

        // --runs over the finished folders compares them without training (the moved-aside remains are not runs).
        let (byRuns, stdout3, stderr3) = try contour(["compare", "--runs", "\(out)/runs/cedice", "\(out)/runs/ce", "--output", "\(dir!)/again",
                                                      "--metrics", "dice", "--resamples", "200"])
        XCTAssertEqual(byRuns, 0, stderr3)
        XCTAssertTrue(stdout3.contains("| cedice (ref) |"), stdout3)
    }

    func testAVaryKeyThatIsNotAFieldStopsBeforeAnythingRuns() throws {
        _ = try contourBinary()
        let base = try writeBase()
        let (status, _, stderr) = try contour(["compare", "--config", base, "--vary", "modle.name=unet2d|unet++", "--output", "\(dir!)/cmp"])
        XCTAssertNotEqual(status, 0)
        XCTAssertTrue(stderr.contains("--vary modle.name=unet2d|unet++ (variant unet2d): unknown section 'modle'"), stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: "\(dir!)/cmp/runs"))
        let (bad, _, stderr2) = try contour(["compare", "--config", base, "--vary", "objectives=cedice|nosuchloss", "--output", "\(dir!)/cmp"])
        XCTAssertNotEqual(bad, 0)
        XCTAssertTrue(stderr2.contains("nosuchloss"), stderr2)
        XCTAssertFalse(FileManager.default.fileExists(atPath: "\(dir!)/cmp/runs"))
        // A model option is checked by building each variant's model first.
        let (option, _, stderr3) = try contour(["compare", "--config", base, "--vary", "model.options.baseWidht=2|4", "--output", "\(dir!)/cmp"])
        XCTAssertNotEqual(option, 0)
        XCTAssertTrue(stderr3.contains("baseWidht"), stderr3)
        XCTAssertFalse(FileManager.default.fileExists(atPath: "\(dir!)/cmp/runs"))
    }
}
