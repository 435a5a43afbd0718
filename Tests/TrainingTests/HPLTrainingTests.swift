import Foundation
import XCTest
import Imaging
import Metrics
import Torch
@testable import Training

/// BaBLoss's HPL set-up end to end on the 3D demo pair: `paired` batches, resunet3d-mt, landmark
/// validation (MRE/SDR in mm) and evaluation from the checkpoint.
final class HPLTrainingTests: XCTestCase {
    var dir: String!

    override func setUpWithError() throws {
        dir = NSTemporaryDirectory() + "contour-hpl-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: dir) }

    /// Five 64³ cases: case_000/002 landmark-only and case_001/003 segmentation-only train; case_004 (landmarks) validates.
    func config(_ extra: [String] = []) throws -> ExperimentConfig {
        let data = "\(dir!)/data"
        if !FileManager.default.fileExists(atPath: "\(data)/dataset.json") {
            try DemoData.write(kind: .organLandmarks3d, to: data, trainCount: 5, testCount: 0, seed: 1)
        }
        return try ExperimentConfig.fromOverrides([
            "data.dataset=\(data)", "data.patchSize=[32, 32, 32]", "data.batchSize=2", "data.workers=1", "data.preset=none",
            "data.heatmap={sigma: 3}", "model.name=resunet3d-mt", "model.options={baseWidth: 2, blocks: 1}",
            "objectives=[cedice, heatmap-mse]", "step=paired", "optimizer.name=adam", "optimizer.learningRate=0.001",
            "run.epochs=1", "run.iterationsPerEpoch=3", "run.bestMetric=mre", "run.seed=2", "run.threads=1",
            "run.output=\(dir!)/run", "run.tensorboard=false",
            "evaluation.sdrRadii=[2, 4]", "evaluation.landmarks={extraction: quadratic}",
        ] + extra)
    }

    func testPairedBatchesTrainAndLandmarksAreScoredInMillimetres() throws {
        let trainer = try Trainer(config: try config(), quiet: true)
        let session = trainer.sessions[0]
        let groups = try XCTUnwrap(session.loader.configuration.composition).groups
        let ids = session.experiment.trainCases.map(\.id)
        XCTAssertEqual(groups.map(\.name), ["landmark", "segmentation"])
        XCTAssertEqual(groups[0].members.map { ids[$0] }, ["case_000", "case_002"])
        XCTAssertEqual(groups[1].members.map { ids[$0] }, ["case_001", "case_003"])
        XCTAssertEqual(groups.map(\.perBatch), [1, 1])
        XCTAssertEqual(session.loader.batchesPerEpoch, 2)
        let batch = try session.loader.batch(epoch: 0, index: 0)
        XCTAssertEqual(batch.hasLabels, [false, true], "landmark sample first, then the segmentation sample")

        let summary = try trainer.train()
        XCTAssertEqual(summary.skippedSteps, 0, "patches without landmarks are skipped by heatmap-mse, not NaN")
        XCTAssertEqual(Set(summary.validation.keys).intersection(["mre", "sdr_2", "sdr_4"]), ["mre", "sdr_2", "sdr_4"])
        XCTAssertNotNil(summary.bestEpoch, "best by mre")
        XCTAssertTrue(try String(contentsOfFile: "\(dir!)/run/report.html", encoding: .utf8).contains("<h2>Landmarks</h2>"))

        // contour evaluate's path, from the checkpoint: 8 landmarks of case_004, errors in mm.
        let (predictor, state) = try Predictor.load(checkpoint: "\(dir!)/run", device: .cpu)
        let policy = try EvaluationPolicy(checkpoint: state)
        XCTAssertEqual(policy.sdrRadii, [2, 4])
        XCTAssertEqual(policy.landmarks.method, .quadratic)
        let dataset = try Dataset.open("\(dir!)/data")
        let cases = try Evaluation.cases(split: "val", dataset: dataset, state: state, run: "\(dir!)/run") { _ in }
        XCTAssertEqual(cases.map(\.id), ["case_004"])
        let outcome = try Evaluation.evaluateAll(predictor, cases: cases, labels: dataset.description.foregroundLabels,
                                                 landmarkNames: dataset.description.landmarkNames, policy: policy)
        XCTAssertTrue(outcome.rows.isEmpty, "a landmark-only case has no segmentation rows")
        XCTAssertEqual(outcome.landmarkRows.map(\.landmark), dataset.description.landmarkNames)
        for row in outcome.landmarkRows {
            // The radial error uses the 1.5 × 1 × 1 mm spacing.
            let d = zip(zip(row.predicted, row.truth), [1.5, 1, 1]).map { ($0.0 - $0.1) * $1 }
            XCTAssertEqual(row.error, d.map { $0 * $0 }.reduce(0, +).squareRoot(), accuracy: 1e-9)
            XCTAssertTrue(zip(row.predicted, [64, 64, 64]).allSatisfy { $0 >= 0 && $0 <= Double($1 - 1) })
        }
        let scores = LandmarkReport.summary(outcome.landmarkRows, names: dataset.description.landmarkNames, radii: policy.sdrRadii)
        XCTAssertEqual(LandmarkReport.means(scores)["mre"]!, summary.validation["mre"]!, accuracy: 1e-9, "validation = evaluate")

        // A ground-truth landmark outside the image: an error naming the case, the file and the landmark.
        try #"{"space": "voxel", "points": {"left": [70, 10, 10]}}"#.write(toFile: "\(dir!)/data/landmarksTr/case_004.json", atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try Evaluation.evaluateAll(predictor, cases: cases, labels: [1, 2], landmarkNames: dataset.description.landmarkNames,
                                                        policy: policy)) { e in
            XCTAssertTrue("\(e)".contains("case_004") && "\(e)".contains("\"left\"") && "\(e)".contains("outside"), "\(e)")
        }
    }

    func testPairedStepNeedsBothSetsAndRoomInTheBatch() throws {
        XCTAssertThrowsError(try Trainer(config: try config(["data.batchSize=1"]), quiet: true)) {
            XCTAssertTrue("\($0)".contains("step paired") && "\($0)".contains("batchSize ≥ 2"), "\($0)")
        }
        XCTAssertThrowsError(try Trainer(config: try config(["step={name: paired, options: {landmarkRepeats: 0}}"]), quiet: true)) {
            XCTAssertTrue("\($0)".contains("landmarkRepeats"), "\($0)")
        }
        let step = try TrainingStepRegistry.make("paired", options: ["segmentationRepeats": .number(3)])
        let dataset = try Dataset.open("\(dir!)/data")
        let onlyLandmarks = dataset.training.filter(\.tasks.hasLandmarks)
        XCTAssertThrowsError(try step.composition(cases: onlyLandmarks, batchSize: 4)) {
            XCTAssertTrue("\($0)".contains("no training case has a label map"), "\($0)")
        }
        let c = try XCTUnwrap(try step.composition(cases: dataset.training, batchSize: 4))
        XCTAssertEqual(c.groups.map(\.repeats), [1, 3])
        // 3 landmark cases (1 run of 2), 2 × 3 segmentation draws (3 runs): the shorter set ends the epoch.
        XCTAssertEqual(c.batchesPerEpoch, 1)
    }
}
