import Foundation
import XCTest
import Imaging
import Models
import NeuralNet
import Torch
@testable import Training

final class TrainingTests: XCTestCase {
    var dir: String!

    override func setUpWithError() throws {
        dir = NSTemporaryDirectory() + "contour-training-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: dir) }

    /// A tiny tubular dataset and a configuration that trains in seconds.
    func tinyConfig(epochs: Int, output: String) throws -> ExperimentConfig {
        let data = "\(dir!)/data"
        if !FileManager.default.fileExists(atPath: "\(data)/dataset.json") {
            try DemoData.write(kind: .tubular, to: data, trainCount: 6, testCount: 1, seed: 3)
        }
        return try ExperimentConfig.fromOverrides([
            "data.dataset=\(data)", "data.patchSize=[32, 32]", "data.batchSize=2", "data.workers=2", "data.preset=none",
            "model.name=unet2d", "model.options={stages: 3, baseWidth: 4}", "objectives=cedice",
            "optimizer.name=adam", "optimizer.learningRate=0.01", "optimizer.weightDecay=0",
            "run.epochs=\(epochs)", "run.iterationsPerEpoch=3", "run.validationInterval=2", "run.seed=5", "run.threads=1",
            "run.output=\(output)",
        ])
    }

    func testTwoEpochsEndToEnd() throws {
        let run = "\(dir!)/run"
        let summary = try Trainer(config: try tinyConfig(epochs: 2, output: run), quiet: true).train()
        for f in ["config.yaml", "log.jsonl", "report.html", "checkpoints/latest/model.safetensors",
                  "checkpoints/latest/optimizer.safetensors", "checkpoints/best/state.json"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: "\(run)/\(f)"), f)
        }
        let records = try RunLog(path: "\(run)/log.jsonl").read()
        XCTAssertEqual(records.map(\.epoch), [1, 2])
        XCTAssertLessThan(records[1].trainLoss, records[0].trainLoss, "loss should decrease")
        XCTAssertNotNil(records[1].validation?["dice"])
        XCTAssertNotNil(summary.validation["hd95"])
        XCTAssertEqual(summary.bestEpoch, 2)
        let html = try String(contentsOfFile: "\(run)/report.html", encoding: .utf8)
        XCTAssertTrue(html.contains("<svg") && html.contains("data:image/png;base64,"))
        // The saved configuration reads back to the same experiment, its options resolved.
        let rebuilt = try Trainer(config: try tinyConfig(epochs: 2, output: run), quiet: true)
        XCTAssertEqual(try ExperimentConfig.load(path: "\(run)/config.yaml"),
                       try rebuilt.config.resolved(by: rebuilt.sessions.map { ($0.name, $0.experiment) }))
        // The checkpoint predicts on its own (no dataset needed).
        let (predictor, state) = try Predictor.load(checkpoint: run, device: .cpu)
        XCTAssertEqual(state.patchSize, [32, 32])
        let image = try Dataset.loadImage(try Dataset.open("\(dir!)/data").test[0])
        XCTAssertEqual(try predictor.predict(image).labels.shape, image.shape)
    }

    func testResumeEqualsUninterruptedRun() throws {
        let straight = "\(dir!)/straight", split = "\(dir!)/split"
        _ = try Trainer(config: try tinyConfig(epochs: 4, output: straight), quiet: true).train()
        _ = try Trainer(config: try tinyConfig(epochs: 4, output: split), quiet: true).train(untilEpoch: 2)
        XCTAssertEqual(try RunLog(path: "\(split)/log.jsonl").read().count, 2)
        _ = try Trainer(config: try ExperimentConfig.load(path: "\(split)/config.yaml"), quiet: true).train(resume: true)
        let a = try Safetensors.load("\(straight)/checkpoints/latest/model.safetensors")
        let b = try Safetensors.load("\(split)/checkpoints/latest/model.safetensors")
        XCTAssertEqual(a.tensors.map(\.name), b.tensors.map(\.name))
        for ((name, x), (_, y)) in zip(a.tensors, b.tensors) {
            XCTAssertEqual(try x.rawBytes(), try y.rawBytes(), "\(name) differs after resume")
        }
        let la = try RunLog(path: "\(straight)/log.jsonl").read(), lb = try RunLog(path: "\(split)/log.jsonl").read()
        XCTAssertEqual(la.map(\.trainLoss), lb.map(\.trainLoss))
    }

    func testConfigErrorsNameTheKey() throws {
        let path = "\(dir!)/c.yaml"
        try "data:\n  dataset: x\n  patchsize: [64, 64]\n".write(toFile: path, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try ExperimentConfig.load(path: path)) { XCTAssertTrue("\($0)".contains("'patchsize'"), "\($0)") }
        try "data:\n  dataset: x\n  batchSize: two\n".write(toFile: path, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try ExperimentConfig.load(path: path)) { XCTAssertTrue("\($0)".contains("c.yaml:3: data.batchSize"), "\($0)") }
        try "data: {dataset: x}\nrun: {epochs: 3}\nextra: 1\n".write(toFile: path, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try ExperimentConfig.load(path: path)) { XCTAssertTrue("\($0)".contains("'extra'"), "\($0)") }
        try "run: {epochs: 3}\n".write(toFile: path, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try ExperimentConfig.load(path: path)) { XCTAssertTrue("\($0)".contains("data.dataset"), "\($0)") }
        XCTAssertThrowsError(try ExperimentConfig.fromOverrides(["data.dataset=x", "optimizer.name=lamb"])) {
            XCTAssertTrue("\($0)".contains("--set optimizer.name=lamb: optimizer.name") && "\($0)".contains("sgd"), "\($0)")
        }
        // JSON works too, and --set overrides the file.
        try "{\"data\": {\"dataset\": \"d\", \"batchSize\": 3}, \"objectives\": [{\"name\": \"dice\", \"weight\": 2}]}"
            .write(toFile: "\(dir!)/c.json", atomically: true, encoding: .utf8)
        let c = try ExperimentConfig.load(path: "\(dir!)/c.json", overrides: ["data.batchSize=5", "optimizer.learningRate=0.5"])
        XCTAssertEqual(c.data.batchSize, 5)
        XCTAssertEqual(c.optimizer.learningRate, 0.5)
        XCTAssertEqual(c.objectives, [.init(name: "dice", weight: 2)])
    }

    func testNonFiniteLossStopsTheRunWithAClearMessage() throws {
        var config = try tinyConfig(epochs: 1, output: "\(dir!)/nan")
        config.optimizer.learningRate = 1e30
        config.optimizer.gradientClip = 0
        config.run.maxNonFinite = 2
        config.run.iterationsPerEpoch = 8
        XCTAssertThrowsError(try Trainer(config: config, quiet: true).train()) { error in
            XCTAssertTrue("\(error)".contains("non-finite"), "\(error)")
        }
        XCTAssertNil(CheckpointStore.latestIfAny("\(dir!)/nan/checkpoints"), "a non-finite model must never be saved")
    }

    func testSlidingWindowReproducesWholeImagePrediction() throws {
        // A 1×1 convolution is translation-equivariant: tiling must not change its output.
        let conv = try Conv2d(1, 3, kernelSize: 1)
        let x = try Tensor.randn([1, 1, 50, 37])
        let direct = try withoutGradients { try conv(x) }
        let tiled = try SlidingWindow(patchSize: [16, 16]).logits(of: x) { try conv($0) }
        let diff = try (tiled - direct).abs().max().item()
        XCTAssertLessThan(diff, 1e-5)
        // An image equal to the patch is one tile: exactly the model's output.
        let y = try Tensor.randn([1, 1, 16, 16])
        let single = try SlidingWindow(patchSize: [16, 16]).logits(of: y) { try conv($0) }
        XCTAssertLessThan(try (single - conv(y)).abs().max().item(), 1e-6)
        // Smaller than the patch: padded, then cropped back.
        XCTAssertEqual(try SlidingWindow(patchSize: [16, 16]).logits(of: try Tensor.randn([1, 1, 10, 7])) { try conv($0) }.shape, [1, 3, 10, 7])
        // nnU-Net: ceil((50 − 16) / 8) + 1 = 6 tiles, spaced (50 − 16) / 5 = 6.8 apart.
        XCTAssertEqual(SlidingWindow.origins(size: 50, patch: 16, step: 0.5), [0, 7, 14, 20, 27, 34])
        XCTAssertEqual(SlidingWindow.origins(size: 16, patch: 16, step: 0.5), [0])
    }
}

extension CheckpointStore {
    static func latestIfAny(_ folder: String) -> String? {
        FileManager.default.fileExists(atPath: "\(folder)/latest/state.json") ? "\(folder)/latest" : nil
    }
}

final class ObjectiveShorthandTests: XCTestCase {
    func testCommaSeparatesObjectivesAndPlusStaysInNames() throws {
        let c = try ExperimentConfig.fromOverrides(["data.dataset=d", "objectives=\"scnp+cedice,cldice\""])
        XCTAssertEqual(c.objectives.map(\.name), ["scnp+cedice", "cldice"])
        let d = try ExperimentConfig.fromOverrides(["data.dataset=d", "objectives=[ce, dice]"])
        XCTAssertEqual(d.objectives.map(\.name), ["ce", "dice"])
    }
}

final class MixedPrecisionTests: XCTestCase {
    func testBFloat16TrainingRunsAndLearns() throws {
        let dir = NSTemporaryDirectory() + "contour-bf16-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try DemoData.write(kind: .tubular, to: "\(dir)/data", trainCount: 5, testCount: 0, seed: 1)
        let config = try ExperimentConfig.fromOverrides([
            "data.dataset=\(dir)/data", "data.patchSize=[32, 32]", "data.batchSize=2", "data.preset=none",
            "model.options={stages: 3, baseWidth: 4}", "optimizer.name=adam", "optimizer.learningRate=0.01",
            "run.epochs=2", "run.iterationsPerEpoch=4", "run.mixedPrecision=bf16", "run.threads=1", "run.output=\(dir)/run",
        ])
        _ = try Trainer(config: config, quiet: true).train()
        let records = try RunLog(path: "\(dir)/run/log.jsonl").read()
        XCTAssertEqual(records.count, 2)
        XCTAssertTrue(records.allSatisfy { $0.trainLoss.isFinite })
        XCTAssertLessThan(records[1].trainLoss, records[0].trainLoss)
        // Weights stay float32 (autocast casts on the fly).
        XCTAssertEqual(try Safetensors.load("\(dir)/run/checkpoints/latest/model.safetensors").tensors[0].tensor.dtype, .float32)
    }
}

final class FinishedRunTests: XCTestCase {
    func testResumingAFinishedRunChangesNothing() throws {
        let dir = NSTemporaryDirectory() + "contour-finished-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try DemoData.write(kind: .tubular, to: "\(dir)/data", trainCount: 5, testCount: 0, seed: 2)
        let config = try ExperimentConfig.fromOverrides([
            "data.dataset=\(dir)/data", "data.patchSize=[32, 32]", "data.preset=none", "model.options={stages: 2, baseWidth: 2}",
            "run.epochs=1", "run.iterationsPerEpoch=1", "run.threads=1", "run.output=\(dir)/run",
        ])
        let first = try Trainer(config: config, quiet: true).train()
        let report = try String(contentsOfFile: "\(dir)/run/report.html", encoding: .utf8)
        let again = try Trainer(config: config, quiet: true).train(resume: true)
        XCTAssertEqual(try String(contentsOfFile: "\(dir)/run/report.html", encoding: .utf8), report)
        XCTAssertEqual(again.validation["dice"], first.validation["dice"])
        XCTAssertEqual(again.bestEpoch, 1)
    }
}
