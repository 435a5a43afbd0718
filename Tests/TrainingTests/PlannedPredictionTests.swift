import Foundation
import XCTest
import Geometry
import Imaging
import Models
import Torch
@testable import Training

/// plan → preprocess → predict on a nibabel-written case (scripts/fixtures/make_planned_prediction_fixtures.py):
/// the prediction comes back in the source's shape, spacing and affine, and undoing the
/// preprocessing of the labels gives the labels back.
final class PlannedPredictionTests: XCTestCase {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/planned").path
    var root: String!

    override func setUpWithError() throws {
        root = NSTemporaryDirectory() + "contour-planned-\(UUID().uuidString)"
        let fm = FileManager.default
        for f in ["imagesTr", "labelsTr"] { try fm.createDirectory(atPath: "\(root!)/ds/\(f)", withIntermediateDirectories: true) }
        try fm.copyItem(atPath: "\(Self.fixtures)/case_0000.nii.gz", toPath: "\(root!)/ds/imagesTr/case_0000.nii.gz")
        try fm.copyItem(atPath: "\(Self.fixtures)/case.nii.gz", toPath: "\(root!)/ds/labelsTr/case.nii.gz")
        try DatasetDescription(channelNames: ["MR"], labels: ["background": 0, "lesion": 1], numTraining: 1, fileEnding: ".nii.gz")
            .write(path: "\(root!)/ds/dataset.json")
    }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: root) }

    func npy(_ name: String) throws -> [Double] {
        try NPYArray(decoding: Array(try Data(contentsOf: URL(fileURLWithPath: "\(Self.fixtures)/\(name)")))).doubles()
    }

    func testPredictionReturnsToTheSourceGeometry() throws {
        let ds = try Dataset.open("\(root!)/ds")
        var plans = try ExperimentPlanner().plan(try DatasetFingerprint.extract(ds), dataset: ds.root, labels: [0, 1])
        // Resample to a spacing that differs on every axis (the single case already has the planned one).
        plans.configurations["3d_fullres"]!.spacing = [2.0, 0.6, 0.7]
        let pre = try Preprocessor(plans: plans, configuration: "3d_fullres", plansPath: "plans.json")
        _ = try pre.run(ds, output: "\(root!)/pre", jobs: 1)
        let g = try PreprocessedCase.read(path: "\(root!)/pre/case.json")
        // Source: x × y × z = 26 × 22 × 7 → numpy [7, 22, 26]; non-zero box z 1..<6, y 3..<20, x 2..<24.
        XCTAssertEqual(g.originalShape, [7, 22, 26])
        XCTAssertEqual(g.cropBox, CropBox(lower: [1, 3, 2], upper: [6, 20, 24]))
        // 5·3/2 = 7.5 → 8, 17·0.8/0.6 = 22.67 → 23, 22·0.8/0.7 = 25.1 → 25; z (3 mm vs 0.8) is the separate axis.
        XCTAssertEqual(g.shape, [8, 23, 25])
        XCTAssertEqual(g.separateAxis, 0)

        // Undoing the preprocessing of the labels (one-hot probabilities) gives the source labels back.
        let seg: [UInt8] = try NPYArray(decoding: Array(try Data(contentsOf: URL(fileURLWithPath: "\(root!)/pre/case_seg.npy")))).elements()
        let onehot = (0..<2).flatMap { k in seg.map { Float($0 == UInt8(k) ? 1 : 0) } }
        let restored = Preprocessor.restore(probabilities: onehot, classes: 2, geometry: g)
        let truth = try ImageFile.readLabels("\(root!)/ds/labelsTr/case.nii.gz").labels
        XCTAssertEqual(restored.shape, truth.shape)
        let agree = zip(restored.storage, truth.storage).filter { $0 == $1 }.count
        XCTAssertGreaterThan(Double(agree) / Double(truth.count), 0.99, "\(truth.count - agree) voxels differ")

        // A (random) model through the plan: written with the source header, read back by Contour.
        let model = try UNet(spatialDims: 3, inChannels: 1, classes: 2, stages: 2, baseWidth: 2)
        let predictor = Predictor(model: model, patchSize: [8, 16, 16], normalization: .none, device: .cpu)
        let volume = try Dataset.loadImage(ds.training[0])
        let labels = try predictor.predict(volume, through: pre, id: "case")
        let out = "\(root!)/case_pred.nii.gz"
        try ImageFile.writeLabels(labels, path: out, header: volume.header)
        let back = try ImageFile.read(out)
        XCTAssertEqual(back.shape, [7, 22, 26])
        let zooms = try npy("zooms.npy")
        XCTAssertEqual(back.spacing[0], zooms[2], accuracy: 1e-6)
        XCTAssertEqual(back.spacing[1], zooms[1], accuracy: 1e-6)
        XCTAssertEqual(back.spacing[2], zooms[0], accuracy: 1e-6)
        let affine = try npy("affine.npy")
        let got = try XCTUnwrap(back.header.affine).flatMap { $0 }
        for i in 0..<16 { XCTAssertEqual(got[i], affine[i], accuracy: 1e-5, "affine[\(i / 4)][\(i % 4)]") }
    }
}
