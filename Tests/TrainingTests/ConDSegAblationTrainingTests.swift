import Foundation
import XCTest
import Imaging
import Models
import NeuralNet
import Objectives
import Torch
@testable import Training

/// The ConDSeg ablations (`condseg` model options `sid`/`cdfa`, objective option `sid`) train, and
/// the shipped ablation comparison plans them.
final class ConDSegAblationTrainingTests: XCTestCase {
    var dir: String!

    override func setUpWithError() throws {
        dir = NSTemporaryDirectory() + "contour-condseg-ablation-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: dir) }

    /// One step of the `condseg` objective on the real network (resnet18, 32²): finite loss, a
    /// finite gradient for every parameter, and an Adam step that changes the weights.
    func testOneTrainingStepOfEachVariant() throws {
        try Torch.manualSeed(3)
        let x = try Tensor.rand([2, 3, 32, 32])
        // A disk in each image, labels 0/1.
        let r = try Tensor.arange(0, 32, dtype: .float32) - 15.5
        let disk = try (r.reshape([1, 32]).square() + r.reshape([32, 1]).square()).lt(100).to(.int64).reshape([1, 1, 32, 32])
        let targets = try Targets(labels: try Tensor.cat([disk, disk]), classes: 2)
        // The published model is covered by ConDSegTests; here the three ablated ones.
        for (sid, cdfa) in [(false, true), (true, false), (false, false)] {
            let what = "sid \(sid), cdfa \(cdfa)"
            let model = try ConDSeg(encoder: .resnet18, size: 32, sid: sid, cdfa: cdfa)
            let objective = try ObjectiveRegistry.make("condseg", options: ["sid": .bool(sid)])
            XCTAssertEqual(Set(objective.heads), Set(model.headSpecs.map(\.name)), what)
            let loss = try objective.loss(heads: try model.heads(x), targets: targets)
            XCTAssertTrue(try loss.item().isFinite, what)
            try loss.backward()
            let named = model.namedParameters()
            for (name, p) in named {
                guard let g = p.grad else { XCTFail("\(what): no gradient at \(name)"); continue }
                XCTAssertTrue(try g.abs().sum().item().isFinite, "\(what): \(name)")
            }
            let before = try named.first { $0.name == "output_block.c3.weight" }!.tensor.clone()
            let adam = try Adam(named.map(\.tensor), learningRate: 1e-3)
            try adam.step()
            XCTAssertGreaterThan(try (named.first { $0.name == "output_block.c3.weight" }!.tensor - before).abs().max().item(), 0, what)
        }
    }

    func configPath() -> String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../configs/ablations/condseg.yaml").standardized.path
    }

    func data() throws -> String {
        let data = "\(dir!)/polyps"
        if !FileManager.default.fileExists(atPath: "\(data)/dataset.json") {
            try DemoData.write(kind: .polyps, to: data, trainCount: 4, testCount: 0, seed: 2)
        }
        return data
    }

    func testTheShippedAblationPlansTheFourVariants() throws {
        let plan = try ComparisonPlan.make(config: configPath(), vary: [], set: ["data.dataset=\(try data())"], seeds: nil, folds: nil,
                                           reference: nil, metrics: nil, output: "\(dir!)/cmp")
        XCTAssertEqual(plan.variants.map(\.name), ["two-stage", "no-cr", "no-sid", "no-cdfa"])
        XCTAssertEqual(plan.reference, "two-stage")
        try plan.checkExperiments()
        func last(_ v: String) throws -> ExperimentConfig { try plan.variants.first { $0.name == v }!.config.stageConfigs().last!.config }
        for (v, sid, cdfa) in [("two-stage", nil, nil), ("no-sid", false, nil), ("no-cdfa", nil, false)] as [(String, Bool?, Bool?)] {
            let c = try last(v)
            XCTAssertEqual(try plan.variants.first { $0.name == v }!.config.stageConfigs().map(\.name), ["stage1", "stage2"], v)
            XCTAssertEqual(c.model.name, "condseg", v)
            XCTAssertEqual(c.model.options["sid"], sid.map { .bool($0) }, v)
            XCTAssertEqual(c.model.options["cdfa"], cdfa.map { .bool($0) }, v)
            XCTAssertEqual(c.objectives.map(\.name), ["condseg"], v)
            XCTAssertEqual(c.objectives[0].options["sid"], sid.map { .bool($0) }, v)
        }
    }

    /// A model without SID under the default `condseg` objective stops training before a step.
    func testTheDefaultObjectiveOnAModelWithoutSIDIsAClearError() throws {
        let yaml = """
        data: {dataset: \(try data()), patchSize: [32, 32], batchSize: 2, workers: 1, preset: none, normalization: rgb}
        model: {name: condseg, options: {encoder: resnet18, sid: false}}
        objectives: [condseg]
        run: {epochs: 1, iterationsPerEpoch: 1, validationInterval: 1, seed: 5, threads: 1, output: \(dir!)/bad}
        """
        XCTAssertThrowsError(try Trainer(config: try ExperimentConfig.load(yaml: yaml, name: "t"), quiet: true).train()) {
            XCTAssertTrue("\($0)".contains("reads head 'foreground'") && "\($0)".contains("heads: segmentation"), "\($0)")
        }
    }

    /// `compare --dry-run` finds the same mismatch when it checks the plan (a real comparison lets that
    /// variant fail alone: CompareCommandTests).
    func testACompareVariantWhoseObjectiveReadsAMissingHeadFailsTheCheck() throws {
        let plan = try ComparisonPlan.make(config: configPath(), vary: [], set: ["data.dataset=\(try data())", "stages[1].model.options.sid=false"],
                                           seeds: nil, folds: nil, reference: nil, metrics: nil, output: "\(dir!)/cmp-bad")
        XCTAssertNoThrow(try plan.checkExperiments())
        XCTAssertThrowsError(try plan.checkExperiments(objectives: true)) {
            XCTAssertTrue("\($0)".contains("variant two-stage") && "\($0)".contains("reads head 'foreground'"), "\($0)")
        }
    }

    /// The no-sid variant of the shipped comparison (model and objective changed together) trains
    /// through both stages, 1 iteration each; no-cdfa changes the model only (the step test above).
    func testTheNoSIDVariantTrains() throws {
        let tiny = ["data.dataset=\(try data())", "data.patchSize=[64, 64]", "data.batchSize=2", "run.epochs=1",
                    "run.iterationsPerEpoch=1", "run.validationInterval=1", "run.threads=1", "data.workers=1"]
        let plan = try ComparisonPlan.make(config: configPath(), vary: [], set: tiny, seeds: [0], folds: [0], reference: nil, metrics: nil,
                                           output: "\(dir!)/cmp")
        for name in ["no-sid"] {
            var config = plan.variants.first { $0.name == name }!.config
            config.run.output = "\(dir!)/\(name)"
            _ = try Trainer(config: config, quiet: true).train()
            let records = try RunLog(path: "\(dir!)/\(name)/log.jsonl").read()
            XCTAssertEqual(records.map(\.stage), ["stage1", "stage2"], name)
            XCTAssertTrue(records.allSatisfy { $0.trainLoss.isFinite }, name)
            XCTAssertEqual(Set(records[1].objectives.keys), ["condseg"], name)
        }
    }
}
