import Foundation
import XCTest
import Imaging
import Models
import NeuralNet
import Objectives
import Torch
@testable import Training

/// A tiny stand-in for ConDSeg's networks: a shared `encoder` conv (so stage-1 → stage-2 key
/// copying can be checked), a two-class segmentation head [0, z] and, for stage 2, one-channel
/// foreground/background/uncertainty heads.
final class StandInConDSeg: Module, SegmentationModel {
    let spatialDims = 2, classes: Int, sizeDivisor = 1
    let encoder: Conv2d, norm: BatchNorm2d, mask: Conv2d
    let decoupled: Conv2d?
    let stage1: Bool

    /// `classes: 1` gives a one-channel (sigmoid) segmentation head z, else two classes [0, z].
    init(inChannels: Int, classes: Int, stage1: Bool) throws {
        self.classes = classes
        self.stage1 = stage1
        encoder = try Conv2d(inChannels, 4, kernelSize: 3, padding: 1)
        norm = try BatchNorm2d(4)
        mask = try Conv2d(4, 1, kernelSize: 3, padding: 1)
        decoupled = stage1 ? nil : try Conv2d(4, 3, kernelSize: 3, padding: 1)
        super.init()
    }

    var headSpecs: [HeadSpec] {
        [HeadSpec(name: Heads.segmentation, channels: classes, kind: .segmentation)]
            + (stage1 ? [] : ["foreground", "background", "uncertainty"].map { HeadSpec(name: $0, channels: 1, kind: .map) })
    }

    func features(_ x: Tensor) throws -> Tensor { try norm(try encoder(x)).relu() }

    func outputs(_ x: Tensor) throws -> [Tensor] { [try segmentation(try features(x))] }

    func segmentation(_ f: Tensor) throws -> Tensor {
        let z = try mask(f)
        return classes == 1 ? z : try Tensor.cat([try Tensor.zeros(like: z), z], dim: 1)
    }

    func heads(_ x: Tensor) throws -> Heads {
        let f = try features(x)
        var h = Heads(Heads.segmentation, levels: [try segmentation(f)])
        if let decoupled {
            let d = try decoupled(f)
            for (i, n) in ["foreground", "background", "uncertainty"].enumerated() { h.set(n, try d.narrow(dim: 1, start: i, length: 1)) }
        }
        return h
    }

    func callAsFunction(_ x: Tensor) throws -> Tensor { try outputs(x)[0] }
}

final class ConDSegTrainingTests: XCTestCase {
    var dir: String!
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/condseg").path

    override class func setUp() {
        for (name, stage1) in [("test-condseg-stage1", true), ("test-condseg", false)] {
            try? ModelRegistry.register(name: name, summary: "stand-in", replace: true) { o, m in
                try o.finish()
                return try StandInConDSeg(inChannels: m.inChannels, classes: m.classes, stage1: stage1)
            }
        }
    }

    override func setUpWithError() throws {
        dir = NSTemporaryDirectory() + "contour-condseg-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: dir) }

    func fx(_ name: String) throws -> Tensor { try Tensor.loadNPY("\(Self.fixtures)/\(name).npy") }

    func assertClose(_ a: Tensor, _ b: Tensor, atol: Double, _ what: String, file: StaticString = #filePath, line: UInt = #line) throws {
        XCTAssertEqual(a.shape, b.shape, what, file: file, line: line)
        let d = try a.to(.float64).subtracting(try b.to(.float64)).abs().max().item()
        XCTAssertLessThanOrEqual(d, atol, "\(what): max |Δ| \(d)", file: file, line: line)
    }

    // MARK: Strong augmentation

    func testStrongAugmentationMatchesTorchvisionFormulas() throws {
        let x = try fx("x")
        let params = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(Self.fixtures)/params.json"))) as! [String: [String: Any]]
        for (name, p) in params {
            var a = StrongAugmentation()
            a.isotropicBlur = p["isotropic"] as! Bool
            let drawn = StrongAugmentation.Parameters(
                order: p["order"] as! [Int], brightness: p["brightness"] as! Double, contrast: p["contrast"] as! Double,
                saturation: p["saturation"] as! Double, hue: p["hue"] as! Double, grayscale: p["grayscale"] as! Bool, sigma: p["sigma"] as! Double)
            try assertClose(try a.apply(x, drawn), try fx("strong_\(name)"), atol: 1e-10, "strong augmentation \(name)")
        }
        try assertClose(try StrongAugmentation.adjustHue(x, 0.23), try fx("hue_only"), atol: 1e-10, "hue")
    }

    func testOneDrawPerBatchAsPublishedAndPerImageWhenCorrected() throws {
        let x = try fx("x").narrow(dim: 0, start: 0, length: 1).to(.float32)
        let pair = try Tensor.cat([x, x])
        try Torch.manualSeed(3)
        let once = try StrongAugmentation()(pair)
        try assertClose(once.narrow(dim: 0, start: 0, length: 1), once.narrow(dim: 0, start: 1, length: 1), atol: 0, "one draw for the batch")
        try Torch.manualSeed(3)
        try assertClose(try StrongAugmentation()(pair), once, atol: 0, "the same seed draws the same")
        var perImage = StrongAugmentation()
        perImage.perSample = true
        let each = try perImage(pair)
        let gap = try each.narrow(dim: 0, start: 0, length: 1).subtracting(try each.narrow(dim: 0, start: 1, length: 1)).abs().max().item()
        XCTAssertGreaterThan(gap, 1e-3, "a draw per image")
        // Draw ranges.
        try Torch.manualSeed(9)
        for _ in 0..<50 {
            let d = try StrongAugmentation().draw()
            XCTAssertEqual(d.order.sorted(), [0, 1, 2, 3])
            XCTAssertTrue((0.7...1.3).contains(d.brightness) && (0.7...1.3).contains(d.contrast) && (0.7...1.3).contains(d.saturation))
            XCTAssertTrue((-0.1...0.1).contains(d.hue) && (0.1...3).contains(d.sigma))
        }
    }

    func testStepOptionsAreChecked() throws {
        XCTAssertThrowsError(try TrainingStepRegistry.make("consistency", options: ["sigma": .array([.number(3), .number(1)])])) {
            XCTAssertTrue("\($0)".contains("sigma"), "\($0)")
        }
        XCTAssertThrowsError(try TrainingStepRegistry.make("consistency", options: ["blurSize": .number(4)]))
        XCTAssertThrowsError(try TrainingStepRegistry.make("consistency", options: ["colour": .number(1)]))
        let step = try XCTUnwrap(try TrainingStepRegistry.make("consistency", options: ["parity": .bool(false)]) as? ConsistencyStep)
        XCTAssertTrue(step.augmentation.perSample && step.augmentation.isotropicBlur)
    }

    func testOneChannelHeadsPredictWhereTheSigmoidExceedsAHalf() throws {
        let model = try StandInConDSeg(inChannels: 3, classes: 1, stage1: true)
        model.eval()
        let x = try fx("x").narrow(dim: 0, start: 0, length: 1).to(.float32)
        let predictor = Predictor(model: model, patchSize: [12, 10], normalization: .none, device: .cpu)
        let (probabilities, labels) = try predictor.predict(normalized: x, spacing: [1, 1])
        let z = try model.heads(x).require("segmentation", by: "test")
        XCTAssertEqual(labels.storage.map(Int.init), try z.gt(0).to(.int64).reshape([-1]).toArray(Int64.self).map(Int.init))
        try assertClose(probabilities.narrow(dim: 1, start: 1, length: 1), try z.sigmoid(), atol: 1e-6, "foreground probability")
    }

    // MARK: Two stages

    func data() throws -> String {
        let data = "\(dir!)/polyps"
        if !FileManager.default.fileExists(atPath: "\(data)/dataset.json") {
            try DemoData.write(kind: .polyps, to: data, trainCount: 4, testCount: 0, seed: 2)
        }
        return data
    }

    func config(output: String, freezeEncoder: Bool = false) throws -> ExperimentConfig {
        try ExperimentConfig.load(yaml: """
        data: {dataset: \(try data()), patchSize: [64, 64], batchSize: 2, workers: 1, preset: condseg-stage1, normalization: rgb}
        optimizer: {name: adam, learningRate: 0.001, weightDecay: 0}
        run: {epochs: 2, iterationsPerEpoch: 2, validationInterval: 1, seed: 5, threads: 1, output: \(output), bestMetric: iou}
        stages:
          - {name: stage1, model: {name: test-condseg-stage1}, step: consistency, objectives: [condseg-cr]}
          - {name: stage2, model: {name: test-condseg}, objectives: [condseg], data: {preset: condseg},
             init: {from: stage1, keys: ["encoder."], buffers: false}\(freezeEncoder ? ", freeze: [\"encoder.\"]" : "")}
        """, name: "condseg-test")
    }

    func testTwoStagesTrainAndStageTwoStartsFromTheStageOneEncoder() throws {
        let run = "\(dir!)/run"
        // A frozen encoder in stage 2 must end exactly as stage 1 left it; BN buffers are not copied.
        let summary = try Trainer(config: try config(output: run, freezeEncoder: true), quiet: true).train()
        XCTAssertEqual(summary.epochs, 4)
        let records = try RunLog(path: "\(run)/log.jsonl").read()
        XCTAssertEqual(records.map(\.stage), ["stage1", "stage1", "stage2", "stage2"])
        XCTAssertTrue(records.allSatisfy { $0.trainLoss.isFinite })
        XCTAssertEqual(Set(records[0].objectives.keys), ["condseg-cr"])
        XCTAssertNotNil(records[0].validation?["iou"])
        let one = Dictionary(uniqueKeysWithValues: try Safetensors.load("\(run)/checkpoints/stage-stage1/model.safetensors").tensors.map { ($0.name, $0.tensor) })
        let two = Dictionary(uniqueKeysWithValues: try Safetensors.load("\(run)/checkpoints/latest/model.safetensors").tensors.map { ($0.name, $0.tensor) })
        for key in ["encoder.weight", "encoder.bias"] {
            XCTAssertEqual(try one[key]!.rawBytes(), try two[key]!.rawBytes(), "\(key) copied from stage 1")
        }
        XCTAssertNotEqual(try one["norm.running_mean"]!.rawBytes(), try two["norm.running_mean"]!.rawBytes(), "BN buffers are not copied")
    }

    func testTheShippedConfigDescribesBothStages() throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../configs/condseg.yaml").standardized.path
        let stages = try ExperimentConfig.load(path: path, overrides: ["data.dataset=\(try data())", "run.output=\(dir!)/c"]).stageConfigs()
        XCTAssertEqual(stages.map(\.name), ["stage1", "stage2"])
        let (one, two) = (stages[0].config, stages[1].config)
        XCTAssertEqual([one.model.name, two.model.name], ["condseg-stage1", "condseg"])
        XCTAssertEqual([one.step.name, two.step.name], ["consistency", "default"])
        XCTAssertEqual(one.objectives.map(\.name), ["condseg-cr"])
        XCTAssertEqual(two.objectives.map(\.name), ["condseg"])
        XCTAssertEqual([one.data.batchSize, two.data.batchSize], [8, 12])
        XCTAssertEqual([one.data.preset, two.data.preset], ["condseg-stage1", "condseg"])
        XCTAssertEqual(two.initialization?.from, "stage1")
        XCTAssertEqual(two.initialization?.buffers, false)
        XCTAssertEqual(one.optimizer.learningRate, 1e-4)
        XCTAssertEqual(one.optimizer.schedule, "plateau")
        XCTAssertEqual(one.optimizer.plateau.patience, 30)
        XCTAssertEqual(two.run.earlyStopping?.patience, 100)
    }

    func testTheConsistencyStepResumesExactly() throws {
        let straight = "\(dir!)/straight", split = "\(dir!)/split"
        _ = try Trainer(config: try config(output: straight), quiet: true).train()
        _ = try Trainer(config: try config(output: split), quiet: true).train(untilEpoch: 1)
        _ = try Trainer(config: try ExperimentConfig.load(path: "\(split)/config.yaml"), quiet: true).train(resume: true)
        let x = try Safetensors.load("\(straight)/checkpoints/latest/model.safetensors")
        let y = try Safetensors.load("\(split)/checkpoints/latest/model.safetensors")
        for ((name, s), (_, t)) in zip(x.tensors, y.tensors) {
            XCTAssertEqual(try s.rawBytes(), try t.rawBytes(), "\(name) differs after resume")
        }
        XCTAssertEqual(try RunLog(path: "\(straight)/log.jsonl").read().map(\.trainLoss), try RunLog(path: "\(split)/log.jsonl").read().map(\.trainLoss))
    }

    func testTheConsistencyStepRefusesImagesOutsideTheUnitRange() throws {
        let yaml = """
        data: {dataset: \(try data()), patchSize: [64, 64], batchSize: 2, workers: 1, preset: none, normalization: zscore}
        model: {name: test-condseg-stage1}
        objectives: [condseg-cr]
        step: consistency
        run: {epochs: 1, iterationsPerEpoch: 1, validationInterval: 1, seed: 5, threads: 1, output: \(dir!)/z}
        """
        XCTAssertThrowsError(try Trainer(config: try ExperimentConfig.load(yaml: yaml, name: "t"), quiet: true).train()) {
            XCTAssertTrue("\($0)".contains("normalization: rgb"), "\($0)")
        }
    }

    func testTheCRObjectiveWithoutTheConsistencyStepIsAClearError() throws {
        let yaml = """
        data: {dataset: \(try data()), patchSize: [64, 64], batchSize: 2, workers: 1, preset: none, normalization: rgb}
        model: {name: test-condseg-stage1}
        objectives: [condseg-cr]
        run: {epochs: 1, iterationsPerEpoch: 1, validationInterval: 1, seed: 5, threads: 1, output: \(dir!)/bad}
        """
        XCTAssertThrowsError(try Trainer(config: try ExperimentConfig.load(yaml: yaml, name: "t"), quiet: true).train()) {
            XCTAssertTrue("\($0)".contains("step: consistency"), "\($0)")
        }
    }
}
