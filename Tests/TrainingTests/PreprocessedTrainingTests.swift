import Foundation
import XCTest
import Imaging
@testable import Training

/// `data.preprocessed`: training reads the memory-mapped (or cached) cases of `contour data
/// preprocess`, validates on the folder's validation cases and keeps them between validations;
/// a folder of another plan or configuration, or a missing one, is an error naming it.
final class PreprocessedTrainingTests: XCTestCase {
    var dir: String!

    override func setUpWithError() throws {
        dir = NSTemporaryDirectory() + "contour-pretrain-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try DemoData.write(kind: .tubular, to: "\(dir!)/data", trainCount: 6, testCount: 1, seed: 3)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: dir) }

    func preprocess() throws -> (plans: String, folder: String) {
        let ds = try Dataset.open("\(dir!)/data")
        let plans = try ExperimentPlanner().plan(try DatasetFingerprint.extract(ds), dataset: ds.root, labels: [0, 1])
        try plans.write(path: "\(dir!)/plans.json")
        _ = try Preprocessor(plans: plans, configuration: "2d", plansPath: "\(dir!)/plans.json").run(ds, output: "\(dir!)/pre", jobs: 1)
        return ("\(dir!)/plans.json", "\(dir!)/pre")
    }

    func config(_ extra: [String]) throws -> ExperimentConfig {
        try ExperimentConfig.fromOverrides([
            "data.dataset=\(dir!)/data", "data.patchSize=[32, 32]", "data.batchSize=2", "data.workers=2", "data.preset=nnunet-default",
            "model.name=unet2d", "model.options={stages: 3, baseWidth: 4}", "objectives=cedice",
            "optimizer.name=adam", "optimizer.learningRate=0.01", "optimizer.weightDecay=0",
            "run.epochs=2", "run.iterationsPerEpoch=3", "run.validationInterval=1", "run.seed=5", "run.threads=1",
            "run.output=\(dir!)/run",
        ] + extra)
    }

    func testTrainsFromThePreprocessedFolderAndKeepsValidationImages() throws {
        let (plans, folder) = try preprocess()
        let planned = try PlanConfiguration.overrides(plansPath: plans, configuration: "2d", preprocessed: folder)
        XCTAssertTrue(planned.overrides.contains("data.preprocessed=\"\(folder)\""), "\(planned.overrides)")
        XCTAssertEqual(planned.warnings, [], "no spacing warning when training at the planned spacing")

        let trainer = try Trainer(config: try config(["data.preprocessed=\(folder)", "data.cache=memory"]), quiet: true)
        let e = trainer.experiment
        let pre = try XCTUnwrap(e.preprocessed)
        XCTAssertTrue(pre.isResident)
        XCTAssertEqual(pre.cases.map(\.id), e.trainCases.map(\.id))
        XCTAssertEqual(e.preprocessedValidation?.cases.map(\.id), e.valCases.map(\.id))
        XCTAssertEqual(e.normalization, .none, "the folder's arrays are already normalised")
        XCTAssertEqual(trainer.sessions[0].loader.count, e.trainCases.count)
        let summary = try trainer.train()
        XCTAssertNotNil(summary.validation["dice"])
        XCTAssertEqual(e.validationData.keptCount, e.valCases.count, "validation images read once and kept")
        let records = try RunLog(path: "\(dir!)/run/log.jsonl").read()
        XCTAssertEqual(records.compactMap(\.validation).count, 2)

        // cache none: memory-mapped training, validation read each time.
        let mapped = try Experiment(config: try config(["data.preprocessed=\(folder)", "data.cache=none"]))
        XCTAssertFalse(try XCTUnwrap(mapped.preprocessed).isResident)
        XCTAssertFalse(mapped.cacheInMemory)
    }

    func testAnotherPlanOrAMissingFolderIsAnErrorNamingIt() throws {
        let (plans, folder) = try preprocess()
        var other = try ExperimentPlans.read(path: plans)
        other.configurations["2d"]!.batchSize += 1
        try other.write(path: "\(dir!)/other.json")
        XCTAssertThrowsError(try PlanConfiguration.overrides(plansPath: "\(dir!)/other.json", configuration: "2d", preprocessed: folder)) {
            XCTAssertTrue("\($0)".hasPrefix("--preprocessed \(folder): was preprocessed with another plan"), "\($0)")
        }
        XCTAssertThrowsError(try PlanConfiguration.overrides(plansPath: plans, configuration: "2d", preprocessed: "\(dir!)/missing")) {
            XCTAssertTrue("\($0)".contains("\(dir!)/missing: no such preprocessed folder"), "\($0)")
        }
        XCTAssertThrowsError(try Experiment(config: try config(["data.preprocessed=\(dir!)/data"]))) {
            XCTAssertTrue("\($0)".contains("\(dir!)/data: not a preprocessed folder"), "\($0)")
        }
    }

    /// A landmark dataset (partially labelled, BaBLoss-style) trains a two-head model from the
    /// preprocessed folder: batches carry the CASE.json landmarks and validation scores them there.
    func testLandmarkDatasetTrainsFromThePreprocessedFolder() throws {
        try FileManager.default.removeItem(atPath: "\(dir!)/data")
        try DemoData.write(kind: .organLandmarks, to: "\(dir!)/data", trainCount: 6, testCount: 1, seed: 3)
        let (_, folder) = try preprocess()
        let trainer = try Trainer(config: try config([
            "data.preprocessed=\(folder)", "data.cache=none", "data.preset=none", "data.batchSize=3", "data.patchSize=[128, 128]",
            "data.heatmap={sigma: 3}",
            "model.name=unet2d-mt", "objectives=[cedice, {name: heatmap-mse, weight: 10}]", "run.epochs=1",
        ]), quiet: true)
        let e = trainer.experiment
        let pre = try XCTUnwrap(e.preprocessed)
        XCTAssertTrue(pre.cases.contains { $0.landmarks?.count == 4 })
        let batch = try XCTUnwrap(try trainer.sessions[0].loader.batches(epoch: 0).next())
        XCTAssertTrue(batch.landmarkMask.contains(true), "landmarks reach the batch")
        let val = try XCTUnwrap(e.valCases.first { $0.landmarkPath != nil })
        let loaded = try e.validationData.load(Evaluation.Case(id: val.id, images: val, labelPath: val.labelPath, landmarkPath: val.landmarkPath))
        XCTAssertEqual(loaded.landmarks, try XCTUnwrap(e.preprocessedValidation?.cases.first { $0.id == val.id }).landmarks,
                       "validation scores against the stored (preprocessed-frame) landmarks")
        let summary = try trainer.train()
        XCTAssertTrue(summary.validation["mre"]?.isFinite ?? false, "\(summary.validation)")
    }
}
