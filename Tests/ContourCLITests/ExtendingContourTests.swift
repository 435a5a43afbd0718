import ArgumentParser
import ContourCLI
import Foundation
import Imaging
import Objectives
import Torch
@testable import Training
import XCTest

// The README's "Extending Contour" example, verbatim: a loss written outside Contour.
/// Mean squared error between softmax probabilities and the one-hot target.
struct SoftmaxMSE: Objective {
    let name: String
    let scale: Double

    init(options: ObjectiveOptions) throws {
        name = options.objective
        scale = try options.double("scale", default: 1, requirement: "a number > 0") { $0 > 0 }
    }

    func callAsFunction(logits: Tensor, target: LossTarget) throws -> Tensor {
        let difference = try logits.softmax(dim: 1) - target.denseTarget(for: logits)
        return try (difference * difference).mean() * scale
    }
}

func registerSoftmaxMSE() throws {
    try ObjectiveRegistry.register(name: "softmax-mse", summary: "MSE of softmax probabilities; scale (1)") {
        try SoftmaxMSE(options: $0)
    }
}
// End of the README example.

final class ExtendingContourTests: XCTestCase {
    static let registered: Void = { try! registerSoftmaxMSE() }()
    var dir: String!

    override func setUpWithError() throws {
        _ = Self.registered
        dir = NSTemporaryDirectory() + "contour-cli-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: dir) }

    /// Parses and runs `contour ARGS` as the executable would.
    func contour(_ args: [String]) async throws {
        var command = try Contour.parseAsRoot(args)
        if var asyncCommand = command as? AsyncParsableCommand { try await asyncCommand.run() } else { try command.run() }
    }

    func config(optimizer: String) throws -> String {
        try DemoData.write(kind: .tubular, to: "\(dir!)/data", trainCount: 6, testCount: 1, seed: 3)
        let path = "\(dir!)/run.yaml"
        try """
        data: {dataset: \(dir!)/data, patchSize: [32, 32], batchSize: 2, workers: 2, preset: none}
        model: {name: unet2d, options: {stages: 3, baseWidth: 4}}
        objectives:
          - {name: softmax-mse, options: {scale: 2}}
          - {name: scnp+softmax-mse, weight: 0.5}
        optimizer: {name: \(optimizer), learningRate: 0.01, weightDecay: 0}
        run: {epochs: 1, iterationsPerEpoch: 2, seed: 5, threads: 1, output: \(dir!)/run}
        """.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func testARegisteredLossTrainsFromTheCommandLine() async throws {
        try await contour(["train", "--config", try config(optimizer: "adam"), "--quiet"])
        let run = "\(dir!)/run"
        for f in ["checkpoints/latest/model.safetensors", "checkpoints/best/state.json", "log.jsonl"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: "\(run)/\(f)"), f)
        }
        let records = try RunLog(path: "\(run)/log.jsonl").read()
        XCTAssertEqual(records.count, 1)
        XCTAssertEqual(Set(records[0].objectives.keys), ["softmax-mse", "scnp+softmax-mse"])
        XCTAssertTrue(records[0].trainLoss.isFinite)
    }

    func testAnUnknownOptimizerIsAnErrorNamingIt() async throws {
        do {
            try await contour(["train", "--config", try config(optimizer: "lamb"), "--quiet"])
            XCTFail("training with optimizer 'lamb' should fail")
        } catch {
            let message = "\(error)"
            XCTAssertTrue(message.contains("lamb") && message.contains("sgd, adam, adamw"), message)
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: "\(dir!)/run/checkpoints"), "nothing trains with an unknown optimizer")
    }

    func testTheRootCommandListsTheCommands() throws {
        let help = Contour.helpMessage()
        for command in ["train", "evaluate", "predict", "loss", "models"] { XCTAssertTrue(help.contains(command), command) }
    }

    /// The `contour` executable (beside the test binary) still runs the async root command.
    func testTheExecutableRuns() throws {
        let binary = try contourBinary()
        for args in [["--help"], ["train", "--help"]] {
            let p = Process(), out = Pipe()
            p.executableURL = binary
            p.arguments = args
            p.standardOutput = out
            p.standardError = out
            try p.run()
            let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            p.waitUntilExit()
            XCTAssertEqual(p.terminationStatus, 0, "contour \(args): \(text)")
            XCTAssertTrue(text.hasPrefix("OVERVIEW:"), "contour \(args): \(text)")
        }
    }
}
