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

    /// The loader's batch is the hand-indexed box of the full arrays at the origin the sample's
    /// generator gives (no augmentation), for mapped and in-memory cases alike.
    func testTrainingBatchEqualsHandReadPatch() throws {
        let pre = try PreprocessedDataset.open("\(root!)/pre")
        let size = [4, 16, 12]
        let config = DataLoaderConfiguration(batchSize: 3, patchSize: size, foregroundProbability: 0.33, workers: 2, seed: 9)
        let loader = try DataLoader(preprocessed: pre, configuration: config)
        let order = loader.order(epoch: 2)
        let batch = try XCTUnwrap(try loader.batches(epoch: 2).next())
        let n = size.reduce(1, *)
        for slot in 0..<3 {
            let i = order[slot], c = pre.cases[i]
            var rng = loader.generator(epoch: 2, index: i)
            let o = pre.origin(i, size: size, foregroundProbability: slot == 2 ? 1 : 0, using: &rng)
            let full = try NPYArray(decoding: Array(try Data(contentsOf: URL(fileURLWithPath: "\(root!)/pre/\(c.id).npy")))).elements(as: Float.self)
            let seg: [UInt8] = try NPYArray(decoding: Array(try Data(contentsOf: URL(fileURLWithPath: "\(root!)/pre/\(c.id)_seg.npy")))).elements()
            let (d, h, w) = (c.shape[0], c.shape[1], c.shape[2])
            var want: [Float] = [], wantSeg: [UInt8] = []
            for ch in 0..<2 {
                for z in 0..<size[0] { for y in 0..<size[1] { for x in 0..<size[2] {
                    let (zz, yy, xx) = (o[0] + z, o[1] + y, o[2] + x)
                    let inside = (0..<d).contains(zz) && (0..<h).contains(yy) && (0..<w).contains(xx)
                    want.append(inside ? full[((ch * d + zz) * h + yy) * w + xx] : 0)
                    if ch == 0 { wantSeg.append(inside ? seg[(zz * h + yy) * w + xx] : 0) }
                } } }
            }
            XCTAssertEqual(Array(batch.images[(slot * 2 * n)..<((slot + 1) * 2 * n)]), want, "slot \(slot), case \(c.id) at \(o)")
            XCTAssertEqual(Array(batch.labels![(slot * n)..<((slot + 1) * n)]), wantSeg, "labels of slot \(slot)")
        }
    }

    /// nnU-Net's rule: the last round(B · p) slots of every batch hold foreground; the rest are uniform.
    func testOversamplingForcesForegroundAtTheConfiguredRate() throws {
        func forced(_ b: Int, _ p: Double) throws -> [Bool] {
            let loader = try DataLoader(count: 1, configuration: DataLoaderConfiguration(batchSize: b, foregroundProbability: p)) { _ in
                Sample(id: "x", image: [Grid(shape: [2, 2], repeating: Float(0))], labels: nil)
            }
            return (0..<b).map { loader.forcesForeground(slot: $0) }
        }
        XCTAssertEqual(try forced(2, 0.33), [false, true])
        XCTAssertEqual(try forced(12, 0.33), [Bool](repeating: false, count: 8) + [Bool](repeating: true, count: 4))
        XCTAssertEqual(try forced(4, 0.5), [false, false, true, true])
        XCTAssertEqual(try forced(3, 0), [false, false, false])
        XCTAssertEqual(try forced(3, 1), [true, true, true])

        // Seeded run: small patches of the 3 cases (ball of foreground in a larger volume), batches of 6, p = 0.5.
        let pre = try PreprocessedDataset.open("\(root!)/pre")
        let size = [2, 4, 4]
        let loader = try DataLoader(preprocessed: pre, configuration: DataLoaderConfiguration(
            batchSize: 6, patchSize: size, foregroundProbability: 0.5, workers: 2, seed: 4, composition: try BatchComposition(
                groups: [.init(name: "all", members: [0, 1, 2], perBatch: 6, repeats: 40)])))
        var forcedHits = 0, forcedCount = 0, freeHits = 0, freeCount = 0
        let it = loader.batches(epoch: 0)
        while let b = try it.next() {
            let n = size.reduce(1, *)
            for slot in 0..<b.batchSize {
                let hit = b.labels![(slot * n)..<((slot + 1) * n)].contains { $0 > 0 }
                if slot >= 3 { forcedCount += 1; forcedHits += hit ? 1 : 0 } else { freeCount += 1; freeHits += hit ? 1 : 0 }
            }
        }
        XCTAssertEqual(forcedCount, 60)
        XCTAssertEqual(forcedHits, forcedCount, "every forced slot holds foreground")
        XCTAssertLessThan(freeHits, freeCount, "uniform slots do not always")
    }

    /// `inMemory()` (data.cache: memory) gives the same batches as the memory map, augmentation included.
    func testCacheOnAndOffGiveIdenticalBatches() throws {
        let pre = try PreprocessedDataset.open("\(root!)/pre")
        let resident = pre.inMemory()
        XCTAssertTrue(resident.isResident && !pre.isResident)
        let config = DataLoaderConfiguration(batchSize: 2, patchSize: [8, 16, 16], augmentation: AugmentationPreset.nnunetDefault.augmentation(rank: 3),
                                             workers: 2, seed: 11)
        let a = try DataLoader(preprocessed: pre, configuration: config), b = try DataLoader(preprocessed: resident, configuration: config)
        for epoch in 0..<2 {
            let x = a.batches(epoch: epoch), y = b.batches(epoch: epoch)
            while let p = try x.next() {
                let q = try XCTUnwrap(try y.next())
                XCTAssertEqual(p.images, q.images)
                XCTAssertEqual(p.labels, q.labels)
            }
            XCTAssertNil(try y.next())
        }
        XCTAssertEqual(try pre.whole(1).image[1].storage, try resident.whole(1).image[1].storage)
    }

    /// The folder must hold the plan's configuration; errors name the folder.
    func testOpeningForAnotherConfigurationOrPlanIsAnError() throws {
        let plans = try XCTUnwrap(try PreprocessedDataset.open("\(root!)/pre").plans)
        XCTAssertNoThrow(try PreprocessedDataset.open("\(root!)/pre", plans: plans, plansPath: "p.json", configuration: "3d_fullres"))
        XCTAssertThrowsError(try PreprocessedDataset.open("\(root!)/pre", plans: plans, plansPath: "p.json", configuration: "2d")) {
            XCTAssertEqual("\($0)", "\(root!)/pre: holds configuration 3d_fullres, not 2d of p.json; preprocess 2d into another folder")
        }
        var other = plans
        other.configurations["3d_fullres"]!.batchSize += 1
        XCTAssertThrowsError(try PreprocessedDataset.open("\(root!)/pre", plans: other, plansPath: "p.json", configuration: "3d_fullres")) {
            XCTAssertTrue("\($0)".hasPrefix("\(root!)/pre: was preprocessed with another plan"), "\($0)")
        }
        XCTAssertThrowsError(try PreprocessedDataset.open("\(root!)/none", plans: plans, plansPath: "p.json", configuration: "3d_fullres")) {
            XCTAssertTrue("\($0)".hasPrefix("\(root!)/none: no such preprocessed folder"), "\($0)")
        }
    }
}
