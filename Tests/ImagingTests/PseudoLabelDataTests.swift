import Foundation
import XCTest
import Geometry
@testable import Imaging

/// Pseudo labels (`pseudoLabelsTr/`) travel with the labels: found by `Dataset.open`, read by
/// `Sample.load`, moved by every spatial augmentation and crop exactly as the labels, collated.
final class PseudoLabelDataTests: XCTestCase {
    func testAugmentationMovesPseudoLabelsLikeLabels() throws {
        for (shape, rank) in [([12, 14], 2), ([8, 10, 9], 3)] {
            var s = markerSample(shape: shape, landmarks: ["a": Array(repeating: 2, count: rank)])
            s.pseudoLabels = s.labels
            s.pseudoClasses = [1, 2, 3, 4]
            let crop = CropPad(patchSize: shape.map { $0 - 2 }, foregroundProbability: 0.5)
            for seed in 0..<6 {
                var rng = SeededGenerator(seed: UInt64(seed))
                let out = try AugmentationPreset.nnunetDefault.augmentation(rank: rank).apply(s, crop: crop, using: &rng)
                XCTAssertEqual(out.pseudoLabels, out.labels, "rank \(rank), seed \(seed)")
                XCTAssertEqual(out.pseudoClasses, [1, 2, 3, 4])
            }
        }
    }

    func testDatasetFindsPseudoLabelsAndBatchCollatesThem() throws {
        let root = NSTemporaryDirectory() + "contour-pseudo-data-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: root) }
        try DemoData.write(kind: .organLandmarks, to: root, trainCount: 3, testCount: 0, seed: 1)
        var data = try Dataset.open(root)
        XCTAssertTrue(data.training.allSatisfy { $0.pseudoLabelPath == nil })
        try FileManager.default.createDirectory(atPath: "\(root)/pseudoLabelsTr", withIntermediateDirectories: true)
        let first = data.training[0]
        let image = try Dataset.loadImage(first)
        var pseudo = Grid<UInt8>(shape: image.shape, repeating: 0)
        pseudo[3, 4] = 1
        try ImageFile.writeLabels(pseudo, path: "\(root)/pseudoLabelsTr/\(first.id).png")
        data = try Dataset.open(root)
        XCTAssertEqual(data.training[0].pseudoLabelPath, "\(root)/pseudoLabelsTr/\(first.id).png")
        XCTAssertNil(data.training[1].pseudoLabelPath)
        let samples = try data.training.prefix(2).map { try Sample.load($0) }
        XCTAssertEqual(samples[0].pseudoClasses, [1])
        XCTAssertEqual(samples[0].pseudoLabels, pseudo)
        let batch = try Batch(samples: Array(samples), epoch: 0, index: 0, landmarkNames: [])
        XCTAssertEqual(batch.pseudoClasses, [[1], []])
        let voxels = image.shape.reduce(1, *)
        XCTAssertEqual(batch.pseudoLabels?.count, 2 * voxels)
        XCTAssertEqual(batch.pseudoLabels?[3 * image.shape[1] + 4], 1)
        XCTAssertEqual(batch.pseudoLabels?[voxels...].allSatisfy { $0 == 0 }, true)

        XCTAssertTrue(DataCheck.run(root).isClean, "\(DataCheck.run(root).problems)")
        var bad = pseudo
        bad[0, 0] = 77
        try ImageFile.writeLabels(bad, path: "\(root)/pseudoLabelsTr/\(first.id).png")
        try ImageFile.writeLabels(pseudo, path: "\(root)/pseudoLabelsTr/nobody.png")
        let problems = DataCheck.run(root).problems.map { "\($0)" }
        XCTAssertTrue(problems.contains { $0.contains("pseudo-label values [77]") }, "\(problems)")
        XCTAssertTrue(problems.contains { $0.contains("nobody.png") && $0.contains("without an image") }, "\(problems)")

        // A pseudo-label file of another shape names itself.
        try ImageFile.writeLabels(Grid<UInt8>(shape: [4, 4], repeating: 0), path: "\(root)/pseudoLabelsTr/\(first.id).png")
        XCTAssertThrowsError(try Sample.load(try Dataset.open(root).training[0])) { e in
            XCTAssertTrue("\(e)".contains("pseudoLabelsTr/\(first.id).png") && "\(e)".contains("pseudo-label shape"), "\(e)")
        }
    }
}
