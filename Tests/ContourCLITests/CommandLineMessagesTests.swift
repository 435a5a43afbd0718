import ArgumentParser
import ContourCLI
import Foundation
import Imaging
import XCTest

/// What a user sees when a folder is missing or empty, and how help texts read (issue 18).
final class CommandLineMessagesTests: XCTestCase {
    var dir: String!

    override func setUpWithError() throws {
        dir = NSTemporaryDirectory() + "contour-messages-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: "\(dir!)/empty", withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: dir) }

    /// Runs `contour ARGS` and returns what the executable would print for its error and its exit code.
    func failure(_ args: [String]) async -> (message: String, code: Int32) {
        do {
            var command = try Contour.parseAsRoot(args)
            if var asyncCommand = command as? AsyncParsableCommand { try await asyncCommand.run() } else { try command.run() }
            return ("no error", 0)
        } catch {
            return (Contour.fullMessage(for: error), Contour.exitCode(for: error).rawValue)
        }
    }

    func assertPlainError(_ result: (message: String, code: Int32), _ expected: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(result.code, 1, result.message, file: file, line: line)
        XCTAssertEqual(result.message, "Error: \(expected)", file: file, line: line)
        for raw in ["Usage:", "NSCocoaErrorDomain", "could not be completed", "couldn’t be", "Code="] {
            XCTAssertFalse(result.message.contains(raw), "\(raw) in \(result.message)", file: file, line: line)
        }
    }

    func testPredictOnAMissingOrEmptyFolderIsAnErrorWithExitCode1() async {
        let kinds = ImageFile.extensions.map(\.0).joined(separator: ", ")
        assertPlainError(await failure(["predict", "--checkpoint", "\(dir!)/run", "--input", "\(dir!)/nowhere", "--output", "\(dir!)/out"]),
                         "--input \(dir!)/nowhere: no such folder (expected a folder of images (\(kinds)))")
        assertPlainError(await failure(["predict", "--checkpoint", "\(dir!)/run", "--input", "\(dir!)/empty", "--output", "\(dir!)/out"]),
                         "--input \(dir!)/empty: no images (expected \(kinds) files)")
        XCTAssertFalse(FileManager.default.fileExists(atPath: "\(dir!)/out"), "nothing is written when there is nothing to predict")
    }

    func testMetricsOnAMissingOrEmptyFolderIsAnErrorWithExitCode1() async throws {
        let masks = "masks (.nii.gz, .nii, .png, .npy, .tif, .tiff)"
        assertPlainError(await failure(["metrics", "--pred", "\(dir!)/nowhere", "--truth", "\(dir!)/empty"]),
                         "--pred \(dir!)/nowhere: no such folder (expected a folder of \(masks))")
        try "x".write(toFile: "\(dir!)/empty/notes.txt", atomically: true, encoding: .utf8)
        assertPlainError(await failure(["metrics", "--pred", "\(dir!)/empty", "--truth", "\(dir!)/empty"]),
                         "--pred \(dir!)/empty: no \(masks)")
        assertPlainError(await failure(["metrics", "--pred", "\(dir!)/empty/notes.txt", "--truth", "\(dir!)/empty"]),
                         "--pred \(dir!)/empty/notes.txt: is a file, expected a folder of \(masks)")
        // A malformed option value stays a usage error (64).
        let usage = await failure(["metrics", "--pred", "\(dir!)/empty", "--truth", "\(dir!)/empty", "--hd95", "median"])
        XCTAssertEqual(usage.code, 64, usage.message)
    }

    func testAMissingConfigurationFileIsNamedWithoutFoundationText() async {
        let result = await failure(["train", "--config", "\(dir!)/nowhere.yaml"])
        XCTAssertEqual(result.code, 1, result.message)
        XCTAssertTrue(result.message.hasPrefix("Error: \(dir!)/nowhere.yaml: ") && result.message.contains("no such file"), result.message)
        XCTAssertFalse(result.message.contains("could not be completed") || result.message.contains("doesn’t exist"), result.message)
    }

    func testEvaluateOnAMissingOrEmptyDatasetIsAnErrorWithExitCode1() async throws {
        try DemoData.write(kind: .tubular, to: "\(dir!)/data", trainCount: 4, testCount: 0, seed: 3)
        var train = try Contour.parseAsRoot([
            "train", "--dataset", "\(dir!)/data", "--model", "unet2d", "--epochs", "1", "--patch-size", "32,32", "--quiet",
            "--set", "model.options.stages=2", "--set", "model.options.baseWidth=4", "--set", "run.iterationsPerEpoch=1",
            "--set", "data.batchSize=1", "--set", "data.folds=2", "--set", "data.preset=none", "--output", "\(dir!)/run"])
        if var asyncTrain = train as? AsyncParsableCommand { try await asyncTrain.run() } else { try train.run() }

        assertPlainError(await failure(["evaluate", "--checkpoint", "\(dir!)/run", "--dataset", "\(dir!)/nowhere", "--split", "all"]),
                         "\(dir!)/nowhere: no such dataset folder")
        for sub in ["imagesTr", "labelsTr"] {
            try FileManager.default.removeItem(atPath: "\(dir!)/data/\(sub)")
            try FileManager.default.createDirectory(atPath: "\(dir!)/data/\(sub)", withIntermediateDirectories: true)
        }
        assertPlainError(await failure(["evaluate", "--checkpoint", "\(dir!)/run", "--dataset", "\(dir!)/data", "--split", "all"]),
                         "--dataset \(dir!)/data: no labelled cases in the all split (images in imagesTr/ with labels in labelsTr/ or landmarks in landmarksTr/)")
    }

    func testDataDemoRefusesANonEmptyFolderUnlessOverwrite() async throws {
        let out = "\(dir!)/demo"
        try FileManager.default.createDirectory(atPath: "\(out)/imagesTr", withIntermediateDirectories: true)
        try "keep".write(toFile: "\(out)/notes.txt", atomically: true, encoding: .utf8)
        try "stale".write(toFile: "\(out)/imagesTr/old_0000.png", atomically: true, encoding: .utf8)
        assertPlainError(await failure(["data", "demo", "--kind", "blobs", "--count", "2", "--test-count", "0", "--output", out]),
                         "--output \(out): the folder is not empty (imagesTr, notes.txt); choose an empty or new folder, or pass --overwrite to replace the dataset in it")
        XCTAssertTrue(FileManager.default.fileExists(atPath: "\(out)/imagesTr/old_0000.png"), "a refused run changes nothing")

        let ok = await failure(["data", "demo", "--kind", "blobs", "--count", "2", "--test-count", "0", "--output", out, "--overwrite"])
        XCTAssertEqual(ok.code, 0, ok.message)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: "\(out)/imagesTr").sorted(), ["case_000_0000.png", "case_001_0000.png"])
        XCTAssertEqual(try String(contentsOfFile: "\(out)/notes.txt", encoding: .utf8), "keep")
        XCTAssertTrue(DataCheck.run(out).isClean, "\(DataCheck.run(out).problems)")
    }

    /// ArgumentParser keeps a string's line breaks, so a break inside a sentence shows as a
    /// ragged line in `--help`; breaks may only end a sentence or start a list item.
    func testHelpTextsBreakLinesOnlyBetweenSentences() {
        func commands(_ type: ParsableCommand.Type) -> [ParsableCommand.Type] {
            [type] + type.configuration.subcommands.flatMap(commands)
        }
        let all = commands(Contour.self)
        XCTAssertGreaterThan(all.count, 12)
        for command in all {
            let name = command.configuration.commandName ?? "\(command)"
            for text in [command.configuration.abstract, command.configuration.discussion] {
                let lines = text.components(separatedBy: "\n")
                for (line, next) in zip(lines, lines.dropFirst()) {
                    let ends = line.trimmingCharacters(in: .whitespaces).last.map { ".:!?".contains($0) } ?? true
                    let starts = next.trimmingCharacters(in: .whitespaces)
                    XCTAssertTrue(ends || starts.isEmpty || starts.hasPrefix("-") || starts.hasPrefix("•"),
                                  "contour \(name) --help breaks a sentence: \"…\(line.suffix(30))⏎\(next.prefix(30))…\"")
                }
            }
            XCTAssertFalse(Contour.helpMessage(for: command).isEmpty, name)
        }
    }
}
