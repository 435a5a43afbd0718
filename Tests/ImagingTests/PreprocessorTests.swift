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
}
