import Foundation
import XCTest
import Geometry
@testable import Imaging

/// `contour data preprocess` on the anisotropic dataset of PlanningTests: values worked out by hand,
/// resumption after an interruption, and the folder's guard against mixing configurations.
final class PreprocessorTests: XCTestCase {
    var root: String!
    override func setUpWithError() throws {
        root = NSTemporaryDirectory() + "contour-pre-\(UUID().uuidString)"
        for f in ["imagesTr", "labelsTr"] { try FileManager.default.createDirectory(atPath: "\(root!)/\(f)", withIntermediateDirectories: true) }
        try writeAnisotropicDataset(root: root)
    }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: root) }

    func load(_ path: String) throws -> NPYArray { try NPYArray(decoding: Array(try Data(contentsOf: URL(fileURLWithPath: path)))) }

    func preprocessor() throws -> (Dataset, Preprocessor) {
        let ds = try Dataset.open(root)
        let plans = try ExperimentPlanner().plan(try DatasetFingerprint.extract(ds), dataset: root, labels: [0, 1])
        return (ds, try Preprocessor(plans: plans, configuration: "3d_fullres", plansPath: "plans.json"))
    }

    func testCaseValuesGeometryAndLocations() throws {
        let (ds, pre) = try preprocessor()
        let out = "\(root!)/pre"
        let summary = try pre.run(ds, output: out, jobs: 2)
        XCTAssertEqual(summary.written, ["case_0", "case_1", "case_2"])
        // case_2: z spacing 4 → 2.6: 10 cropped slices → round(15.38) = 15; z is the separate axis (4/0.8 > 3).
        let g = try PreprocessedCase.read(path: "\(out)/case_2.json")
        XCTAssertEqual(g.originalShape, [12, 44, 52])
        XCTAssertEqual(g.cropBox, CropBox(lower: [1, 2, 2], upper: [11, 42, 50]))
        XCTAssertEqual(g.shape, [15, 40, 48])
        XCTAssertEqual(g.separateAxis, 0)
        XCTAssertEqual(g.spacing[0], 2.6, accuracy: 1e-12)
        let image = try load("\(out)/case_2.npy")
        XCTAssertEqual(image.shape, [2, 15, 40, 48])
        let v = try image.elements(as: Float.self)
        func at(_ c: Int, _ z: Int, _ y: Int, _ x: Int) -> Float { v[((c * 15 + z) * 40 + y) * 48 + x] }
        // Output slice 7 takes source slice floor(7.5·10/15) = 5 (foreground); in-plane spacing is unchanged.
        // CT: clip to [100, 300], (x − 200)/√(20000/3): fg 300 → √1.5, background 50 → 100 → −√1.5.
        XCTAssertEqual(at(0, 7, 18, 18), Float(1.5.squareRoot()), accuracy: 1e-5)
        XCTAssertEqual(at(0, 7, 2, 2), -Float(1.5.squareRoot()), accuracy: 1e-5)
        // T2: z-score over the non-zero region, 1/12 foreground: fg → √11, background → −1/√11.
        XCTAssertEqual(at(1, 7, 18, 18), Float(11.0.squareRoot()), accuracy: 1e-5)
        XCTAssertEqual(at(1, 7, 2, 2), -Float(1 / 11.0.squareRoot()), accuracy: 1e-5)
        let seg: [UInt8] = try load("\(out)/case_2_seg.npy").elements()
        // Source slices 2…5 of the crop are foreground; output slices 3…8 take them: 6 × 20 × 20 voxels.
        XCTAssertEqual(seg.filter { $0 == 1 }.count, 2400)
        let locations = try XCTUnwrap(g.foregroundLocations["1"])
        XCTAssertEqual(locations.count, 2400)
        XCTAssertTrue(locations.allSatisfy { seg[($0[0] * 40 + $0[1]) * 48 + $0[2]] == 1 })
    }

    func testResumeAfterInterruptionGivesIdenticalFiles() throws {
        let (ds, pre) = try preprocessor()
        let out = "\(root!)/pre"
        _ = try pre.run(ds, output: out, jobs: 2)
        let names = try FileManager.default.contentsOfDirectory(atPath: out).sorted()
        let first = try names.map { try Data(contentsOf: URL(fileURLWithPath: "\(out)/\($0)")) }
        // An interruption: case_1's image cut short, case_2's description gone (its arrays remain).
        let image = try Data(contentsOf: URL(fileURLWithPath: "\(out)/case_1.npy"))
        try image.prefix(1000).write(to: URL(fileURLWithPath: "\(out)/case_1.npy"))
        try FileManager.default.removeItem(atPath: "\(out)/case_2.json")
        XCTAssertFalse(Preprocessor.isComplete("case_1", in: out))
        let again = try pre.run(ds, output: out, jobs: 1)
        XCTAssertEqual(again.written, ["case_1", "case_2"])
        XCTAssertEqual(again.skipped, ["case_0"])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: out).sorted(), names)
        for (name, data) in zip(names, first) {
            XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: "\(out)/\(name)")), data, name)
        }
        // The folder belongs to one configuration.
        let other = try Preprocessor(plans: pre.plans, configuration: "2d", plansPath: "plans.json")
        XCTAssertThrowsError(try other.run(ds, output: out)) { XCTAssertTrue("\($0)".contains("not configuration 2d"), "\($0)") }
    }

    /// Landmarks go into CASE.json moved by the crop and the resampling, by hand: case_2 is cropped
    /// at [1, 2, 2] to 10 × 40 × 48 and resampled to 15 × 40 × 48 (z spacing 4 → 2.6 mm; the map uses
    /// the shape ratio 15/10 that the image resize uses): p ↦ (p − lower + ½)·m/n − ½ per axis.
    /// The mapped dataset and the loader give them in patch coordinates; a case preprocessed before
    /// its landmark file existed is redone.
    func testLandmarksFollowCropAndResampling() throws {
        try FileManager.default.createDirectory(atPath: "\(root!)/landmarksTr", withIntermediateDirectories: true)
        // (x, y, z) in the file: numpy order (5, 20, 10) and (0, 0, 0).
        try Data(#"{"space": "voxel", "points": {"tip": [10, 20, 5], "corner": [0, 0, 0]}}"#.utf8)
            .write(to: URL(fileURLWithPath: "\(root!)/landmarksTr/case_2.json"))
        try DatasetDescription(channelNames: ["CT", "T2"], labels: ["background": 0, "organ": 1], numTraining: 3, fileEnding: ".nii.gz",
                               landmarkNames: ["corner", "tip"]).write(path: "\(root!)/dataset.json")
        let (ds, pre) = try preprocessor()
        let out = "\(root!)/pre"
        _ = try pre.run(ds, output: out, jobs: 2)
        let g = try PreprocessedCase.read(path: "\(out)/case_2.json")
        let tip = try XCTUnwrap(g.landmarks?["tip"]), corner = try XCTUnwrap(g.landmarks?["corner"])
        let wantTip = [(5 - 1 + 0.5) * 15 / 10 - 0.5, 20.0 - 2, 10.0 - 2], wantCorner = [(0 - 1 + 0.5) * 1.5 - 0.5, -2.0, -2.0]
        for (x, y) in zip(tip + corner, wantTip + wantCorner) { XCTAssertEqual(x, y, accuracy: 1e-12) }
        XCTAssertEqual(wantTip, [6.25, 18, 8])
        XCTAssertNil(try PreprocessedCase.read(path: "\(out)/case_0.json").landmarks, "no landmark file, none stored")

        let mapped = try PreprocessedDataset.open(out)
        let i = try XCTUnwrap(mapped.cases.firstIndex { $0.id == "case_2" })
        let patch = try mapped.patch(i, origin: [2, 10, 4], size: [8, 16, 16])
        XCTAssertEqual(patch.landmarks?["tip"], [4.25, 8, 4])
        XCTAssertEqual(patch.tasks.landmarks, ["corner", "tip"], "from dataset.json, as the raw loader's")
        let config = DataLoaderConfiguration(batchSize: 1, patchSize: [15, 40, 48], foregroundProbability: 0, shuffle: false, workers: 1,
                                             landmarkNames: ["corner", "tip"])
        let batch = try DataLoader(preprocessed: try PreprocessedDataset.open(out, ids: ["case_2"]), configuration: config).batch(epoch: 0, index: 0)
        XCTAssertEqual(Array(batch.landmarkCoordinates[3...]), [6.25, 18, 8], "a patch of the whole case: stored coordinates")
        XCTAssertEqual(batch.landmarkMask, [false, true], "the corner lies outside")

        // Written before the landmark file existed: the rerun redoes case_2 only.
        var old = g
        old.landmarks = nil
        try old.write(path: "\(out)/case_2.json")
        XCTAssertFalse(Preprocessor.isComplete("case_2", in: out, landmarks: true))
        XCTAssertEqual(try pre.run(ds, output: out, jobs: 1).written, ["case_2"])
        XCTAssertEqual(try PreprocessedCase.read(path: "\(out)/case_2.json"), g)
    }
}
