import Foundation
import XCTest
import Geometry
@testable import Imaging

/// Memory-mapped preprocessed cases: patches equal the same box of a full read, foreground
/// oversampling lands on stored foreground, and the loader batches patches.
final class PreprocessedDatasetTests: XCTestCase {
    var root: String!
    override func setUpWithError() throws {
        root = NSTemporaryDirectory() + "contour-mapped-\(UUID().uuidString)"
        for f in ["imagesTr", "labelsTr"] { try FileManager.default.createDirectory(atPath: "\(root!)/\(f)", withIntermediateDirectories: true) }
        try writeAnisotropicDataset(root: root)
        let ds = try Dataset.open(root)
        let plans = try ExperimentPlanner().plan(try DatasetFingerprint.extract(ds), dataset: root, labels: [0, 1])
        _ = try Preprocessor(plans: plans, configuration: "3d_fullres", plansPath: "plans.json").run(ds, output: "\(root!)/pre")
    }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: root) }

    func testMappedPatchesEqualFullReads() throws {
        let pre = try PreprocessedDataset.open("\(root!)/pre")
        XCTAssertEqual(pre.cases.map(\.id), ["case_0", "case_1", "case_2"])
        let i = 2, c = pre.cases[i]
        let full = try NPYArray(decoding: Array(try Data(contentsOf: URL(fileURLWithPath: "\(root!)/pre/case_2.npy")))).elements(as: Float.self)
        let seg: [UInt8] = try NPYArray(decoding: Array(try Data(contentsOf: URL(fileURLWithPath: "\(root!)/pre/case_2_seg.npy")))).elements()
        let (d, h, w) = (c.shape[0], c.shape[1], c.shape[2])
        // Inside, and hanging over every border (zero there).
        for (origin, size) in [([3, 5, 7], [8, 16, 16]), ([-2, -3, 40], [20, 48, 16]), ([0, 0, 0], c.shape)] {
            let s = try pre.patch(i, origin: origin, size: size)
            XCTAssertEqual(s.image.count, 2)
            for ch in 0..<2 {
                var want: [Float] = [], wantSeg: [UInt8] = []
                for z in 0..<size[0] { for y in 0..<size[1] { for x in 0..<size[2] {
                    let (zz, yy, xx) = (origin[0] + z, origin[1] + y, origin[2] + x)
                    let inside = (0..<d).contains(zz) && (0..<h).contains(yy) && (0..<w).contains(xx)
                    want.append(inside ? full[((ch * d + zz) * h + yy) * w + xx] : 0)
                    wantSeg.append(inside ? seg[(zz * h + yy) * w + xx] : 0)
                } } }
                XCTAssertEqual(s.image[ch].storage, want, "channel \(ch) at \(origin)")
                XCTAssertEqual(s.labels?.storage, wantSeg, "labels at \(origin)")
            }
        }
    }

    func testForegroundOversamplingAndLoader() throws {
        let pre = try PreprocessedDataset.open("\(root!)/pre")
        var rng = SeededGenerator(seed: 3)
        for k in 0..<20 {
            let i = k % 3, size = [4, 8, 8]
            let o = pre.origin(i, size: size, foregroundProbability: 1, using: &rng)
            let s = try pre.patch(i, origin: o, size: size)
            XCTAssertEqual(s.labels!.storage[(2 * 8 + 4) * 8 + 4], 1, "patch centre of case \(i) at \(o) is foreground")
        }
        let config = DataLoaderConfiguration(batchSize: 2, patchSize: [8, 16, 16], foregroundProbability: 0.5, workers: 2, seed: 1)
        let loader = try DataLoader(preprocessed: pre, configuration: config)
        let a = try loader.batch(epoch: 0, index: 0), b = try loader.batch(epoch: 0, index: 0)
        XCTAssertEqual(a.imageShape, [2, 2, 8, 16, 16])
        XCTAssertEqual(a.images, b.images, "deterministic for a seed")
    }
}
