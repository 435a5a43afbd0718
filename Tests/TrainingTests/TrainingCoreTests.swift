import Foundation
import XCTest
import Imaging
import Models
import NeuralNet
import Objectives
import Torch
@testable import Training

/// Stages, balancers, state and the checks made before training starts.
final class TrainingCoreTests: XCTestCase {
    var dir: String!

    override func setUpWithError() throws {
        dir = NSTemporaryDirectory() + "contour-core-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: dir) }

    func data(_ kind: DemoKind = .tubular) throws -> String {
        let data = "\(dir!)/data-\(kind.rawValue)"
        if !FileManager.default.fileExists(atPath: "\(data)/dataset.json") {
            try DemoData.write(kind: kind, to: data, trainCount: 6, testCount: 0, seed: 3)
        }
        return data
    }

    func config(_ yaml: String, output: String, kind: DemoKind = .tubular) throws -> ExperimentConfig {
        try ExperimentConfig.load(yaml: """
        data: {dataset: \(try data(kind)), patchSize: [32, 32], batchSize: 2, workers: 1, preset: none}
        model: {name: unet2d, options: {stages: 3, baseWidth: 4}}
        optimizer: {name: adam, learningRate: 0.01, weightDecay: 0}
        run: {epochs: 2, iterationsPerEpoch: 2, validationInterval: 1, seed: 5, threads: 1, output: \(output)}
        \(yaml)
        """, name: "test")
    }

    static let twoStages = """
    stages:
      - {name: pre, objectives: [ce], run: {epochs: 2}}
      - {name: fine, objectives: [cedice], optimizer: {learningRate: 0.003, groups: [{keys: "decoder.*", learningRate: 0.001}]},
         run: {epochs: 2}, init: {from: pre, keys: ["encoder.*"], buffers: false}, freeze: ["encoder.0."]}
    """

    func assertSameWeights(_ a: String, _ b: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let x = try Safetensors.load("\(a)/checkpoints/latest/model.safetensors")
        let y = try Safetensors.load("\(b)/checkpoints/latest/model.safetensors")
        XCTAssertEqual(x.tensors.map(\.name), y.tensors.map(\.name), file: file, line: line)
        for ((name, s), (_, t)) in zip(x.tensors, y.tensors) {
            XCTAssertEqual(try s.rawBytes(), try t.rawBytes(), "\(name) differs after resume", file: file, line: line)
        }
        XCTAssertEqual(try RunLog(path: "\(a)/log.jsonl").read().map(\.trainLoss), try RunLog(path: "\(b)/log.jsonl").read().map(\.trainLoss),
                       file: file, line: line)
    }

    func testTwoStagesRunInOrderAndTheSecondStartsFromTheFirst() throws {
        let run = "\(dir!)/staged"
        let trainer = try Trainer(config: try config(Self.twoStages, output: run), quiet: true)
        XCTAssertEqual(trainer.sessions.map(\.name), ["pre", "fine"])
        // Per-group rates: the default group first, then decoder.* at its own rate.
        XCTAssertEqual(trainer.sessions[1].optimizer.groups.map(\.baseLearningRate), [0.003, 0.001])
        let summary = try trainer.train()
        XCTAssertEqual(summary.epochs, 4)
        let records = try RunLog(path: "\(run)/log.jsonl").read()
        XCTAssertEqual(records.map(\.epoch), [1, 2, 3, 4])
        XCTAssertEqual(records.map(\.stage), ["pre", "pre", "fine", "fine"])
        XCTAssertEqual(Set(records[0].objectives.keys), ["ce"])
        XCTAssertEqual(Set(records[3].objectives.keys), ["cedice"])
        // The finished first stage is kept; the frozen encoder.0 of the second equals it bit for bit.
        let pre = try Safetensors.load("\(run)/checkpoints/stage-pre/model.safetensors")
        let fine = try Safetensors.load("\(run)/checkpoints/latest/model.safetensors")
        let frozen = pre.tensors.filter { $0.name.hasPrefix("encoder.0.") && !$0.name.contains("running") }
        XCTAssertFalse(frozen.isEmpty)
        for (name, t) in frozen { XCTAssertEqual(try t.rawBytes(), try fine[name]!.rawBytes(), name) }
        // A trained, not frozen, encoder layer started from stage 1 and moved on.
        XCTAssertNotEqual(try pre["encoder.1.convs.0.weight"]!.rawBytes(), try fine["encoder.1.convs.0.weight"]!.rawBytes())
        let state = try CheckpointStore.readState("\(run)/checkpoints/latest")
        XCTAssertEqual(state.stageName, "fine")
        XCTAssertEqual(state.stageFinished, true)
    }

    func testResumingATwoStageRunEqualsTheUninterruptedRun() throws {
        let straight = "\(dir!)/straight"
        _ = try Trainer(config: try config(Self.twoStages, output: straight), quiet: true).train()
        // Interrupted inside the second stage, and at the boundary between the stages.
        for until in [3, 2] {
            let split = "\(dir!)/split\(until)"
            _ = try Trainer(config: try config(Self.twoStages, output: split), quiet: true).train(untilEpoch: until)
            XCTAssertEqual(try RunLog(path: "\(split)/log.jsonl").read().count, until)
            _ = try Trainer(config: try ExperimentConfig.load(path: "\(split)/config.yaml"), quiet: true).train(resume: true)
            try assertSameWeights(straight, split)
        }
    }

    func testPCGradTrainsAndResumesExactly() throws {
        let yaml = "objectives: [ce, dice]\nbalancer: {name: pcgrad, options: {seed: 3}}"
        let straight = "\(dir!)/pc", split = "\(dir!)/pc-split"
        _ = try Trainer(config: try config(yaml, output: straight), quiet: true).train()
        _ = try Trainer(config: try config(yaml, output: split), quiet: true).train(untilEpoch: 1)
        let saved = try CheckpointStore.readState("\(split)/checkpoints/latest")
        XCTAssertNotNil(saved.balancer?["rng"], "the balancer's random state is checkpointed")
        _ = try Trainer(config: try ExperimentConfig.load(path: "\(split)/config.yaml"), quiet: true).train(resume: true)
        try assertSameWeights(straight, split)
        let records = try RunLog(path: "\(straight)/log.jsonl").read()
        XCTAssertTrue(records.allSatisfy { $0.trainLoss.isFinite })
        XCTAssertEqual(Set(records[0].objectives.keys), ["ce", "dice"])
    }

    func testThePCGradUpdateIsWrittenToTheGradients() throws {
        // Two objectives through StepContext.apply: .grad must equal Σ PCGrad-projected gradients, by hand.
        let trainer = try Trainer(config: try config("objectives: [ce, {name: dice, weight: 0.5}]\nbalancer: pcgrad", output: "\(dir!)/g"), quiet: true)
        let s = trainer.sessions[0]
        let batch = try XCTUnwrap(try s.loader.batches(epoch: 0, startingAt: 0).next())
        let ctx = s.context
        func losses() throws -> [Tensor] { try ctx.losses(try ctx.forward(try ctx.inputs(batch)), try ctx.targets(batch)) }
        let params = ctx.parameters
        func flat(_ loss: Tensor) throws -> Tensor {
            try Tensor.cat(try gradients(of: loss, with: params, allowUnused: true).enumerated().map { i, g in
                try (g ?? Tensor.zeros(like: params[i])).reshape([-1]).to(.float64)
            })
        }
        let l = try losses()
        let g1 = try flat(l[0]), g2 = try flat(try losses()[1] * 0.5)
        let d12 = try g1.multiplying(g2).sum().item()
        let n1 = try g1.multiplying(g1).sum().item(), n2 = try g2.multiplying(g2).sum().item()
        var p1 = g1, p2 = g2
        if d12 < 0 { p1 = try g1.subtracting(g2 * (d12 / n2)); p2 = try g2.subtracting(g1 * (d12 / n1)) }
        let expected = try p1.adding(p2)
        try s.optimizer.zeroGrad()
        let outcome = try ctx.apply(try losses())
        XCTAssertTrue(outcome.applied)
        let written = try Tensor.cat(try params.map { try XCTUnwrap($0.grad).reshape([-1]).to(.float64) })
        XCTAssertLessThan(try written.subtracting(expected).abs().max().item(), 1e-6)
    }

    func testConfigurationMistakesAreCaughtBeforeTraining() throws {
        func expect(_ yaml: String, kind: DemoKind = .tubular, mentions: [String], file: StaticString = #filePath, line: UInt = #line) {
            XCTAssertThrowsError(try Trainer(config: try config(yaml, output: "\(dir!)/bad", kind: kind), quiet: true), file: file, line: line) { e in
                for m in mentions { XCTAssertTrue("\(e)".contains(m), "\(e) does not mention \(m)", file: file, line: line) }
            }
            XCTAssertFalse(FileManager.default.fileExists(atPath: "\(dir!)/bad/log.jsonl"), file: file, line: line)
        }
        expect("objectives: [{name: dice, head: heatmaps}]", mentions: ["'heatmaps'", "unet2d", "segmentation"])
        expect("balancer: pcgrad", mentions: ["pcgrad", "one"])
        expect("balancer: nash", mentions: ["nash", "pcgrad"])
        expect("step: nonexistent", mentions: ["nonexistent", "default", "consistency"])
        expect("init: {from: nowhere}", mentions: ["nowhere"])
        expect("stages: [{name: a, init: {from: b}}, {name: b}]", mentions: ["'b'", "later stage"])
        expect("objectives: [cedice, heatmap-mse]", mentions: ["heatmap-mse", "'heatmaps'"])
        expect("objectives: [cedice, {name: heatmap-mse, options: {head: segmentation}}]", mentions: ["heatmap-mse", "needs heatmaps", "landmarks"])
        expect("model: {name: unet2d-mt}", mentions: ["unet2d-mt", "no landmarks"])
        expect("freeze: [nothing.]", mentions: ["nothing.", "matches no parameter"])
        expect("optimizer: {groups: [{keys: [head.*], learningRate: 0.1}]}", mentions: ["groups[0]", "head.*"])
        XCTAssertThrowsError(try config("optimizer: {name: lamb}", output: "\(dir!)/bad")) { XCTAssertTrue("\($0)".contains("lamb") || "\($0)".contains("'name'"), "\($0)") }
        XCTAssertThrowsError(try config("stages: [{name: a, run: {output: x}}]", output: "\(dir!)/bad")) { XCTAssertTrue("\($0)".contains("run.output"), "\($0)") }
        XCTAssertThrowsError(try config("stages: [{name: a, modle: {}}]", output: "\(dir!)/bad")) { XCTAssertTrue("\($0)".contains("'modle'"), "\($0)") }
    }

    func testEarlyStoppingAndPlateauStateAreKept() throws {
        // A learning rate of ~0 cannot improve Dice: early stopping ends the run after `patience` flat validations.
        let yaml = """
        optimizer: {name: sgd, learningRate: 1.0e-12, schedule: plateau, plateau: {patience: 0, factor: 0.5}}
        run: {epochs: 6, iterationsPerEpoch: 1, validationInterval: 1, seed: 5, threads: 1, output: \(dir!)/es, earlyStopping: {metric: dice, patience: 2}}
        """
        let summary = try Trainer(config: try config(yaml, output: "\(dir!)/es"), quiet: true).train()
        let records = try RunLog(path: "\(dir!)/es/log.jsonl").read()
        XCTAssertLessThan(records.count, 6, "early stopping should end the run")
        XCTAssertEqual(summary.epochs, 6)
        let state = try CheckpointStore.readState("\(dir!)/es/checkpoints/latest")
        XCTAssertEqual(state.stageFinished, true)
        XCTAssertEqual(state.earlyStopping?.metric, "dice")
        XCTAssertNotNil(state.plateau)
        XCTAssertLessThan(state.plateau!.factor, 1, "no improvement reduces the plateau factor")
        XCTAssertTrue(FileManager.default.fileExists(atPath: "\(dir!)/es/report.html"))
    }

    func testTwoHeadModelTrainsOnPartiallyLabelledLandmarkData() throws {
        let yaml = """
        model: {name: unet2d-mt, options: {stages: 3, baseWidth: 4}}
        objectives: [cedice, {name: heatmap-mse, weight: 10}]
        data: {dataset: \(try data(.organLandmarks)), patchSize: [64, 64], batchSize: 3, workers: 1, preset: none, heatmap: {sigma: 3}}
        """
        let run = "\(dir!)/mt"
        let trainer = try Trainer(config: try config(yaml, output: run, kind: .organLandmarks), quiet: true)
        XCTAssertEqual(trainer.experiment.model.headSpecs.map(\.name), ["segmentation", "heatmaps"])
        XCTAssertEqual(trainer.experiment.model.headSpecs.map(\.channels), [2, 4])
        _ = try trainer.train()
        let records = try RunLog(path: "\(run)/log.jsonl").read()
        XCTAssertTrue(records.allSatisfy { $0.trainLoss.isFinite && $0.objectives["heatmap-mse"]! > 0 })
        // The checkpoint predicts its segmentation head on its own.
        let (predictor, state) = try Predictor.load(checkpoint: run, device: .cpu)
        XCTAssertEqual(state.landmarkNames?.count, 4)
        let image = try Dataset.loadImage(try Dataset.open(try data(.organLandmarks)).training[0])
        XCTAssertEqual(try predictor.predict(image).labels.shape, image.shape)
    }

    func testAUserStepRegisteredByNameRunsEveryIteration() throws {
        final class CountingStep: TrainingStep {
            let inner = DefaultStep()
            var steps = 0, epochs = 0
            var name: String { "counting" }
            func step(_ batch: Batch, context: StepContext) throws -> StepOutcome {
                steps += 1
                return try inner.step(batch, context: context)
            }
            func epochDidEnd(_ epoch: Int, validation: [String: Double]?, context: StepContext) throws { epochs += 1 }
        }
        let made = CountingStep()
        try TrainingStepRegistry.register(name: "test-counting", summary: "counts", replace: true) { o in try o.finish(); return made }
        _ = try Trainer(config: try config("step: test-counting", output: "\(dir!)/counting"), quiet: true).train()
        XCTAssertEqual(made.steps, 4)
        XCTAssertEqual(made.epochs, 2)
        XCTAssertThrowsError(try TrainingStepRegistry.register(name: "default", summary: "") { _ in made }) {
            XCTAssertTrue("\($0)".contains("'default'"), "\($0)")
        }
    }
}
