import Foundation
import XCTest
import Imaging
import NeuralNet
import Objectives
import Torch
@testable import Training

/// The convex-hull pseudo-labels of the 3D HPL demo written to pseudoLabelsTr/, then trained on
/// with the `sam` objective beside cedice and heatmap-mse (paired landmark/segmentation batches).
final class PseudoLabelTrainingTests: XCTestCase {
    var dir: String!

    override func setUpWithError() throws {
        dir = NSTemporaryDirectory() + "contour-pseudo-train-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: dir) }

    func config(_ data: String) throws -> ExperimentConfig {
        try ExperimentConfig.fromOverrides([
            "data.dataset=\(data)", "data.patchSize=[32, 32, 32]", "data.batchSize=2", "data.workers=1", "data.preset=nnunet-default",
            "data.heatmap={sigma: 3}", "model.name=resunet3d-mt", "model.options={baseWidth: 2, blocks: 1}",
            "objectives=[cedice, heatmap-mse, sam]", "step=paired", "optimizer.name=adam", "optimizer.learningRate=0.001",
            "run.epochs=1", "run.iterationsPerEpoch=1", "run.bestMetric=mre", "run.seed=2", "run.threads=1",
            "run.output=\(dir!)/run", "run.tensorboard=false",
        ])
    }

    func testHullPseudoLabelsTrainWithTheSamObjective() throws {
        let data = "\(dir!)/data"
        try DemoData.write(kind: .organLandmarks3d, to: data, trainCount: 5, testCount: 0, seed: 1)
        // Without pseudo labels, `sam` has nothing to read.
        XCTAssertThrowsError(try Trainer(config: try config(data), quiet: true)) { e in
            XCTAssertTrue("\(e)".contains("objective 'sam' needs pseudoLabels") && "\(e)".contains("pseudoLabelsTr"), "\(e)")
        }

        let dataset = try Dataset.open(data)
        let structures = try PseudoLabeler.structures(dataset.description, source: data)
        XCTAssertEqual(structures[1]?.count, 8)
        XCTAssertEqual(structures[2]?.count, 2)
        try FileManager.default.createDirectory(atPath: "\(data)/pseudoLabelsTr", withIntermediateDirectories: true)
        for c in dataset.training where c.landmarkPath != nil {
            let image = try Dataset.loadImage(c)
            let marks = try XCTUnwrap(try Dataset.loadLandmarks(c, rank: 3, header: image.header))
            let result = try PseudoLabeler().label(caseID: c.id, image: image, landmarks: marks.points, structures: structures)
            // The core's two landmarks span a segment: skipped with a warning naming case and structure.
            XCTAssertEqual(result.warnings.count, 1)
            XCTAssertTrue(result.warnings[0].contains("case \(c.id), structure 2"), result.warnings[0])
            XCTAssertEqual(Array(result.voxels.keys), [1])
            try ImageFile.writeLabels(result.labels, path: "\(data)/pseudoLabelsTr/\(c.id).nii.gz", header: image.header)
        }

        let trainer = try Trainer(config: try config(data), quiet: true)
        let session = trainer.sessions[0]
        let batch = try session.loader.batch(epoch: 0, index: 0)
        XCTAssertEqual(batch.pseudoClasses, [[1], []], "the landmark sample carries the pseudo labels")
        let targets = try session.context.targets(batch)
        XCTAssertEqual(targets.pseudoLabels?.shape, [2, 1, 32, 32, 32])
        let heads = try session.context.forward(try session.context.inputs(batch))
        let sam = try session.context.losses(heads, targets)[2].item()
        XCTAssertTrue(sam.isFinite && sam > 0, "\(sam)")
        let summary = try trainer.train()
        XCTAssertEqual(summary.skippedSteps, 0)
    }
}
