import Foundation
import XCTest
import Geometry
@testable import Imaging

/// Fingerprint and plan of a small anisotropic 3D dataset, against values worked out by hand below.
final class PlanningTests: XCTestCase {
    var root: String!
    override func setUpWithError() throws {
        root = NSTemporaryDirectory() + "contour-plan-\(UUID().uuidString)"
        for f in ["imagesTr", "labelsTr"] { try FileManager.default.createDirectory(atPath: "\(root!)/\(f)", withIntermediateDirectories: true) }
    }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: root) }

    func writeDataset(zSpacings: [Double] = [2.5, 3, 4], channels: [String] = ["CT", "T2"]) throws {
        try writeAnisotropicDataset(root: root, zSpacings: zSpacings, channels: channels)
    }

    func testFingerprintAndPlanOfAnisotropicDataset() throws {
        try writeDataset()
        let f = try DatasetFingerprint.extract(try Dataset.open(root))
        XCTAssertEqual(f.cases.map(\.shapeAfterCrop), [[10, 40, 48], [10, 40, 48], [10, 40, 48]])
        XCTAssertEqual(f.cases.map(\.spacing[0]), [2.5, 3, 4])
        // Each case contributes 10 000 samples of one value: 100, 200, 300 (CT) → mean 200,
        // sd √((100² + 0 + 100²)/3), percentiles 0.5/99.5 = the extremes.
        let ct = f.foregroundIntensities[0]
        XCTAssertEqual(ct.mean, 200, accuracy: 1e-9)
        XCTAssertEqual(ct.sd, (20_000.0 / 3).squareRoot(), accuracy: 1e-9)
        XCTAssertEqual(ct.percentile00_5, 100)
        XCTAssertEqual(ct.percentile99_5, 300)
        XCTAssertEqual(ct.median, 200)
        XCTAssertEqual(f.foregroundIntensities[1].mean, 400, accuracy: 1e-9)
        // 4·20·20 = 1600 of 10·40·48 = 19 200 cropped voxels are label 1.
        XCTAssertEqual(f.classFrequencies["1"]!, 1600.0 / 19_200, accuracy: 1e-12)
        XCTAssertEqual(f.classFrequencies["0"]!, 17_600.0 / 19_200, accuracy: 1e-12)
        XCTAssertEqual(f.medianRelativeSizeAfterCrop, 19_200.0 / (12 * 44 * 52), accuracy: 1e-12)

        let plans = try ExperimentPlanner(memoryBudgetGB: 8).plan(f, dataset: root, labels: [0, 1])
        let full = try XCTUnwrap(plans.configurations["3d_fullres"])
        // Median spacing 3 > 3 × 0.8 and median size 10 × 3 < 40: z uses the 10th percentile of
        // {2.5, 3, 4} = 2.5 + 0.2 · 0.5 = 2.6.
        XCTAssertEqual(full.spacing[0], 2.6, accuracy: 1e-12)
        XCTAssertEqual(full.spacing[1], 0.8, accuracy: 1e-6)  // float32 in the header
        XCTAssertEqual(full.spacing[2], 0.8, accuracy: 1e-6)
        // z sizes 10·2.5/2.6 → 10, 10·3/2.6 → 12, 10·4/2.6 → 15: median 12.
        XCTAssertEqual(full.medianShape, [12, 40, 48])
        // Initial patch ≫ the median, so the patch is the median shape. Pooling: stage 1 pools y, x
        // (z is 3.25× coarser; kernels 1×3×3), stage 2 all (z now 1.625×; kernels 3³), stage 3 y, x
        // (z has 6 < 8 voxels left), then y, x have 5, 6 < 8.
        XCTAssertEqual(full.patchSize, [12, 40, 48])
        XCTAssertEqual(full.poolsPerAxis, [1, 3, 3])
        XCTAssertEqual(full.poolKernelSizes, [[1, 1, 1], [1, 2, 2], [2, 2, 2], [1, 2, 2]])
        XCTAssertEqual(full.convKernelSizes, [[1, 3, 3], [3, 3, 3], [3, 3, 3], [3, 3, 3]])
        XCTAssertEqual(full.stages, 4)
        // 5 % of the dataset (3 · 12·40·48 voxels) is 0.15 patches: the minimum batch, 2.
        XCTAssertEqual(full.batchSize, 2)
        XCTAssertNil(plans.configurations["3d_lowres"], "the patch covers the whole median case")
        let twoD = try XCTUnwrap(plans.configurations["2d"])
        XCTAssertEqual(twoD.axes, [1, 2])
        XCTAssertEqual(twoD.patchSize, [40, 48])
        XCTAssertEqual(twoD.poolsPerAxis, [3, 3])
        XCTAssertEqual(twoD.batchSize, 2)  // round(3·23 040 · 0.05 / 1920) = round(1.8)
        // CT: dataset statistics; T2: per-image z-score inside the non-zero region (crop kept 70 % < 75 %).
        XCTAssertEqual(plans.normalization[0].scheme, .ct)
        XCTAssertEqual(plans.normalization[0].clip, [100, 300])
        XCTAssertEqual(plans.normalization[1].scheme, .zscore)
        XCTAssertTrue(plans.normalization[1].useNonZeroMask)
        // JSON round trip.
        let path = "\(root!)/plans.json"
        try plans.write(path: path)
        XCTAssertEqual(try ExperimentPlans.read(path: path), plans)
    }

    func testLowresWhenThePatchIsSmallAgainstTheCase() throws {
        // A 1 mm isotropic 400³ median case: the 3D patch under a 2 GB budget covers far less than 25 %.
        let entry = DatasetFingerprint.CaseEntry(id: "a", originalShape: [400, 400, 400], shapeAfterCrop: [400, 400, 400], spacing: [1, 1, 1])
        let f = DatasetFingerprint(channelNames: ["MR"], cases: [entry, entry], foregroundIntensities: [IntensityStatistics([1, 2])!],
                                   classFrequencies: [:], medianRelativeSizeAfterCrop: 1, samplesPerCase: 1, seed: 0)
        let plans = try ExperimentPlanner(memoryBudgetGB: 2).plan(f, dataset: "x", labels: [0, 1])
        let full = try XCTUnwrap(plans.configurations["3d_fullres"]), low = try XCTUnwrap(plans.configurations["3d_lowres"])
        XCTAssertLessThanOrEqual(full.estimatedMemoryGB, 2)
        XCTAssertLessThan(Double(full.patchSize.reduce(1, *)), 0.25 * 400 * 400 * 400)
        XCTAssertGreaterThan(low.spacing[0], 1)
        XCTAssertGreaterThanOrEqual(Double(low.patchSize.reduce(1, *)), 0.25 * low.medianShape.reduce(1, *) * 0.99)
        for c in full.patchSize.indices { XCTAssertEqual(full.patchSize[c] % (1 << full.poolsPerAxis[c]), 0) }
    }

    func testBadInputNamesTheCaseOrSetting() throws {
        try writeDataset()
        let f = try DatasetFingerprint.extract(try Dataset.open(root))
        XCTAssertThrowsError(try ExperimentPlanner(memoryBudgetGB: 0.0001).plan(f, dataset: root, labels: [0, 1])) {
            XCTAssertTrue("\($0)".contains("--memory-budget 0.0001 GB is too small"), "\($0)")
        }
        // Mixed channel counts: case_1 lacks its second channel.
        try FileManager.default.removeItem(atPath: "\(root!)/imagesTr/case_1_0001.nii.gz")
        XCTAssertThrowsError(try DatasetFingerprint.extract(try Dataset.open(root))) {
            XCTAssertTrue("\($0)".contains("case case_1: channel 1"), "\($0)")
        }
        // A single-slice case in a 3D set.
        try writeDataset()
        try NIfTIFile.write(try Grid(shape: [1, 44, 52], spacing: [3, 0.8, 0.8], repeating: 1), path: "\(root!)/imagesTr/case_2_0000.nii.gz", as: .float32)
        try NIfTIFile.write(try Grid(shape: [1, 44, 52], spacing: [3, 0.8, 0.8], repeating: 1), path: "\(root!)/imagesTr/case_2_0001.nii.gz", as: .float32)
        try NIfTIFile.write(try Grid(shape: [1, 44, 52], spacing: [3, 0.8, 0.8], repeating: 0), path: "\(root!)/labelsTr/case_2.nii.gz", as: .uint8)
        XCTAssertThrowsError(try DatasetFingerprint.extract(try Dataset.open(root))) {
            XCTAssertTrue("\($0)".contains("case_2 has a single slice"), "\($0)")
        }
        // NaN spacing in a header (pixdim[3] of an uncompressed .nii at byte 88).
        try writeDataset()
        let nii = "\(root!)/imagesTr/case_0_0000.nii"
        try NIfTIFile.write(try Grid(shape: [12, 44, 52], spacing: [3, 0.8, 0.8], repeating: 1), path: nii, as: .float32)
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: nii)))
        withUnsafeBytes(of: Float.nan.bitPattern.littleEndian) { for k in 0..<4 { bytes[88 + k] = $0[k] } }
        try Data(bytes).write(to: URL(fileURLWithPath: nii))
        try FileManager.default.removeItem(atPath: "\(root!)/imagesTr/case_0_0000.nii.gz")
        try DatasetDescription(channelNames: ["CT", "T2"], labels: ["background": 0, "organ": 1], numTraining: 3, fileEnding: ".nii")
            .write(path: "\(root!)/dataset.json")
        for id in ["case_0", "case_1", "case_2"] {
            for file in ["imagesTr/\(id)_0000", "imagesTr/\(id)_0001", "labelsTr/\(id)"] where file != "imagesTr/case_0_0000" {
                let v = try ImageFile.read("\(root!)/\(file).nii.gz")
                try NIfTIFile.write(v.channels[0], path: "\(root!)/\(file).nii", as: .float32)
            }
        }
        XCTAssertThrowsError(try DatasetFingerprint.extract(try Dataset.open(root))) {
            XCTAssertTrue("\($0)".contains("case case_0") && "\($0)".contains("NaN"), "\($0)")
        }
    }
}

/// Three 12×44×52 cases, spacing z × 0.8 × 0.8 with z = 2.5, 3, 4 mm. Non-zero box [1,11)×[2,42)×[2,50)
/// (10×40×48) holds 50, except a 4×20×20 foreground block (label 1) of 100·(case+1) in channel 0
/// ("CT") and 200·(case+1) in channel 1 ("T2").
func writeAnisotropicDataset(root: String, zSpacings: [Double] = [2.5, 3, 4], channels: [String] = ["CT", "T2"]) throws {
    try DatasetDescription(channelNames: channels, labels: ["background": 0, "organ": 1], numTraining: zSpacings.count,
                           fileEnding: ".nii.gz").write(path: "\(root)/dataset.json")
    for (i, z) in zSpacings.enumerated() {
        let shape = [12, 44, 52], spacing = [z, 0.8, 0.8]
        var image = [[Float]](repeating: [Float](repeating: 0, count: 12 * 44 * 52), count: channels.count)
        var labels = [UInt8](repeating: 0, count: 12 * 44 * 52)
        for a in 1..<11 { for b in 2..<42 { for c in 2..<50 {
            let k = (a * 44 + b) * 52 + c
            let fg = (3..<7).contains(a) && (10..<30).contains(b) && (10..<30).contains(c)
            for ch in channels.indices { image[ch][k] = fg ? Float(100 * (ch + 1) * (i + 1)) : 50 }
            labels[k] = fg ? 1 : 0
        } } }
        for ch in channels.indices {
            try NIfTIFile.write(try Grid(shape: shape, spacing: spacing, storage: image[ch]),
                                path: "\(root)/imagesTr/case_\(i)_000\(ch).nii.gz", as: .float32)
        }
        try NIfTIFile.write(try Grid(shape: shape, spacing: spacing, storage: labels.map(Float.init)),
                            path: "\(root)/labelsTr/case_\(i).nii.gz", as: .uint8)
    }
}
