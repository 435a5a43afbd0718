import ArgumentParser
import ContourCLI
import Foundation
import Imaging
@testable import Training
import XCTest

/// The commands, as a user types them: rerunning a saved config, `--overwrite`,
/// `--resume` of a copied run with more epochs, and `evaluate --split val` after the data changed.
final class RunSafetyCommandTests: XCTestCase {
    var dir: String!

    override func setUpWithError() throws {
        dir = NSTemporaryDirectory() + "contour-cli-safety-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try DemoData.write(kind: .tubular, to: "\(dir!)/data", trainCount: 6, testCount: 0, seed: 3)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: dir) }

    func contour(_ args: [String]) async throws {
        var command = try Contour.parseAsRoot(args)
        if var asyncCommand = command as? AsyncParsableCommand { try await asyncCommand.run() } else { try command.run() }
    }

    /// What `body` writes to stderr (file descriptor 2).
    func standardError(_ body: () async throws -> Void) async throws -> String {
        let path = "\(dir!)/stderr.txt"
        FileManager.default.createFile(atPath: path, contents: nil)
        let file = open(path, O_WRONLY | O_TRUNC)
        let saved = dup(2)
        fflush(stderr)
        dup2(file, 2)
        close(file)
        do {
            try await body()
        } catch {
            fflush(stderr)
            dup2(saved, 2)
            close(saved)
            throw error
        }
        fflush(stderr)
        dup2(saved, 2)
        close(saved)
        return try String(contentsOfFile: path, encoding: .utf8)
    }

    func train(_ extra: [String]) async throws {
        try await contour(["train", "--dataset", "\(dir!)/data", "--patch-size", "32,32", "--iterations", "1", "--threads", "1",
                           "--set", "model.options={stages: 2, baseWidth: 2}", "--set", "data.preset=none", "--quiet"] + extra)
    }

    func lines(_ run: String) throws -> Int { try RunLog(path: "\(run)/log.jsonl").read().count }

    func testRerunningASavedConfigRefusesAndOverwriteMovesTheRunAside() async throws {
        let run = "\(dir!)/runs/mine"
        try await train(["--epochs", "2", "--output", run])
        let rerun = ["train", "--config", "\(run)/config.yaml", "--set", "run.epochs=1", "--quiet"]
        do {
            try await contour(rerun)
            XCTFail("training into \(run) again should be refused")
        } catch {
            XCTAssertTrue("\(error)".contains("--resume \(run)") && "\(error)".contains("--overwrite"), "\(error)")
        }
        XCTAssertEqual(try lines(run), 2)
        let said = try await standardError { try await contour(rerun + ["--overwrite"]) }
        XCTAssertEqual(try lines(run), 1)
        let aside = try FileManager.default.contentsOfDirectory(atPath: "\(dir!)/runs").filter { $0.hasPrefix("mine.replaced-") }
        XCTAssertEqual(aside.count, 1)
        XCTAssertEqual(try lines("\(dir!)/runs/\(aside[0])"), 2)
        XCTAssertTrue(said.contains("runs/\(aside[0])"), said)
        // --resume with --overwrite contradicts itself.
        XCTAssertThrowsError(try {
            var command = try Contour.parseAsRoot(["train", "--resume", run, "--overwrite"])
            try command.run()
        }()) { XCTAssertTrue("\($0)".contains("give one of them"), "\($0)") }
    }

    func testResumingACopiedRunWithMoreEpochsContinuesInTheCopy() async throws {
        let run = "\(dir!)/run", copy = "\(dir!)/copy"
        try await train(["--epochs", "1", "--output", run])
        try FileManager.default.copyItem(atPath: run, toPath: copy)
        let said = try await standardError { try await contour(["train", "--resume", copy, "--set", "run.epochs=2", "--quiet"]) }
        XCTAssertEqual(try lines(copy), 2)
        XCTAssertEqual(try lines(run), 1)
        XCTAssertTrue(said.contains("warning: run.epochs × iterationsPerEpoch changed from 1 to 2 iterations; the poly schedule"), said)
        XCTAssertEqual(said.split(separator: "\n").filter { $0.hasPrefix("warning:") }.count, 1, said)
    }

    func testEvaluatingTheValidationSplitUsesTheSavedSplitAndWarnsWhatChanged() async throws {
        let run = "\(dir!)/run", data = "\(dir!)/data"
        try await train(["--epochs", "1", "--output", run])
        let val = try Splits.read(path: "\(run)/splits.json")[0].val
        // One case added and the label renamed since training.
        try FileManager.default.copyItem(atPath: "\(data)/imagesTr/case_000_0000.png", toPath: "\(data)/imagesTr/zzz_new_0000.png")
        try FileManager.default.copyItem(atPath: "\(data)/labelsTr/case_000.png", toPath: "\(data)/labelsTr/zzz_new.png")
        let json = try String(contentsOfFile: "\(data)/dataset.json", encoding: .utf8)
        let description = try DatasetDescription.read(path: "\(data)/dataset.json")
        let name = try XCTUnwrap(description.labels.first { $0.value == 1 }?.key)
        try json.replacingOccurrences(of: "\"\(name)\"", with: "\"renamed\"").write(toFile: "\(data)/dataset.json", atomically: true, encoding: .utf8)

        let said = try await standardError { try await contour(["evaluate", "--checkpoint", run, "--dataset", data, "--split", "val"]) }
        let csv = try String(contentsOfFile: "\(run)/evaluation-val/metrics.csv", encoding: .utf8)
        let scored = Set(csv.split(separator: "\n").dropFirst().map { String($0.split(separator: ",")[0]) })
        XCTAssertEqual(scored, Set(val))
        XCTAssertTrue(said.contains("warning: the dataset changed since") && said.contains("zzz_new"), said)
        XCTAssertTrue(said.contains("warning: the checkpoint was trained with labels") && said.contains("renamed: 1"), said)
    }
}
