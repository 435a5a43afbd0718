import Foundation
import XCTest
import Geometry
@testable import Imaging

/// Augmented patches of memory-mapped preprocessed cases equal the raw path's (the whole case in
/// memory): rotation and scaling sample around the patch, so the mapped path must read the box the
/// taps cover, and the raw path's per-batch foreground rule (nnU-Net's) matches the mapped one.
final class PreprocessedAugmentationTests: XCTestCase {
    var folder: String!
    override func setUpWithError() throws { folder = NSTemporaryDirectory() + "contour-preaug-\(UUID().uuidString)" }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: folder) }

    /// A case of random positive intensities (2 channels), two sparse classes and three landmarks.
    static func randomCase(_ id: String, shape: [Int], seed: UInt64) throws -> Sample {
        var rng = SeededGenerator(seed: seed)
        let n = shape.reduce(1, *)
        let image = try (0..<2).map { _ in
            try Grid(shape: shape, spacing: shape.map { _ in 1.0 }, storage: (0..<n).map { _ in Float.random(in: 0.5...2, using: &rng) })
        }
        var labels = [UInt8](repeating: 0, count: n)
        for k in 0..<(n / 40) { labels[Int.random(in: 0..<n, using: &rng)] = UInt8(1 + k % 2) }
        let points = ["a", "b", "c"].map { name in (name, shape.map { Double.random(in: -2...(Double($0) + 1), using: &rng) }) }
        return Sample(id: id, image: image, labels: try Grid(shape: shape, spacing: shape.map { _ in 1.0 }, storage: labels),
                      landmarks: Dictionary(uniqueKeysWithValues: points))
    }

    /// The samples as a preprocessed folder (as `contour data preprocess` writes it), every
    /// foreground voxel stored in flat order.
    static func writeFolder(_ samples: [Sample], to folder: String) throws {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try Data("{}\n".utf8).write(to: URL(fileURLWithPath: "\(folder)/preprocess.json"))
        for s in samples {
            let shape = s.shape, labels = s.labels!.storage
            let image = NPYArray(shape: [s.image.count] + shape, elements: s.image.flatMap(\.storage)).encoded()
            let seg = NPYArray(shape: shape, elements: labels).encoded()
            try Data(image).write(to: URL(fileURLWithPath: "\(folder)/\(s.id).npy"))
            try Data(seg).write(to: URL(fileURLWithPath: "\(folder)/\(s.id)_seg.npy"))
            var locations: [String: [[Int]]] = [:]
            let strides = s.labels!.strides
            for (i, v) in labels.enumerated() where v > 0 {
                locations[String(v), default: []].append(strides.indices.map { (i / strides[$0]) % shape[$0] })
            }
            try PreprocessedCase(id: s.id, configuration: "test", originalShape: shape, originalSpacing: s.image[0].spacing, affine: nil,
                                 cropBox: CropBox(lower: shape.map { _ in 0 }, upper: shape), shape: shape, spacing: s.image[0].spacing,
                                 channels: s.image.count, separateAxis: nil, foregroundLocations: locations, imageBytes: image.count,
                                 labelBytes: seg.count, landmarks: s.landmarks).write(path: "\(folder)/\(s.id).json")
        }
    }

    func assertSame(_ a: Sample, _ b: Sample, _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.shape, b.shape, what, file: file, line: line)
        for c in a.image.indices { XCTAssertEqual(a.image[c].storage, b.image[c].storage, "\(what): channel \(c)", file: file, line: line) }
        XCTAssertEqual(a.labels?.storage, b.labels?.storage, "\(what): labels", file: file, line: line)
        XCTAssertEqual(a.landmarks?.keys.sorted(), b.landmarks?.keys.sorted(), what, file: file, line: line)
        for (name, p) in a.landmarks ?? [:] {
            for (x, y) in zip(p, b.landmarks?[name] ?? []) { XCTAssertEqual(x, y, accuracy: 1e-9, "\(what): landmark \(name)", file: file, line: line) }
        }
    }

    /// Rotations of 30° and 45°, scale 0.8 and both, with every interpolation, elastic deformation
    /// once, patches inside the case, at its border and hanging over it: the mapped case's patch is
    /// the in-memory case's, bit for bit; and a rotated interior patch has no zero corners.
    func testRotatedAndScaledPatchesEqualTheWholeCase() throws {
        let cases = [try Self.randomCase("flat", shape: [40, 52], seed: 1), try Self.randomCase("vol", shape: [20, 24, 28], seed: 2)]
        try Self.writeFolder(cases, to: folder)
        let pre = try PreprocessedDataset.open(folder)
        XCTAssertEqual(pre.cases.map(\.id), ["flat", "vol"])
        let settings: [(Double, Double, ElasticDeformation?)] = [(30, 1, nil), (45, 1, nil), (0, 0.8, nil), (45, 0.8, nil), (30, 1.2, ElasticDeformation(probability: 1))]
        for (i, c) in cases.enumerated() {
            let rank = c.rank
            let size = rank == 2 ? [24, 20] : [10, 12, 8]
            let origins = rank == 2 ? [[8, 16], [0, 0], [16, 32], [-5, 40], [30, -7]] : [[5, 6, 10], [0, 0, 0], [10, 12, 20], [-3, 15, 24]]
            for (degrees, scale, elastic) in settings {
                for method in Interpolation.allCases {
                    let spatial = SpatialTransform(mirrorProbability: 0.5, rotationProbability: degrees == 0 ? 0 : 1,
                                                   rotationDegrees: degrees...degrees, scaleProbability: scale == 1 ? 0 : 1,
                                                   scale: scale...scale, elastic: elastic, interpolation: method)
                    for (k, origin) in origins.enumerated() {
                        var r1 = SeededGenerator(seed: UInt64(100 + k)), r2 = r1
                        let whole = try spatial.apply(SampleSource(c), origin: origin, size: size, using: &r1)
                        let mapped = try spatial.apply(pre.source(i), origin: origin, size: size, using: &r2)
                        assertSame(whole, mapped, "\(c.id) \(degrees)° ×\(scale) \(method) at \(origin)")
                        XCTAssertEqual(r1.next(), r2.next(), "same draws")
                    }
                }
            }
        }
        // The bug this guards: an interior patch rotated by 45° reads its corners from around the patch.
        let spatial = SpatialTransform(rotationProbability: 1, rotationDegrees: 45...45)
        var rng = SeededGenerator(seed: 5)
        let p = try spatial.apply(pre.source(0), origin: [8, 16], size: [24, 20], using: &rng)
        for (y, x) in [(0, 0), (0, 19), (23, 0), (23, 19)] { XCTAssertGreaterThan(p.image[0].storage[y * 20 + x], 0.4, "corner (\(y), \(x))") }
    }

    /// The raw loader (whole samples in memory, cropped by `CropPad`) and the preprocessed loader
    /// give identical batches for the same seed: rotation (always), scaling, the nnU-Net intensity
    /// transforms, cases smaller than the patch, forced and uniform slots.
    func testRawAndMappedLoadersGiveIdenticalBatches() throws {
        let cases = try [[40, 52], [30, 20], [64, 48]].enumerated().map { try Self.randomCase("case_\($0.offset)", shape: $0.element, seed: UInt64(10 + $0.offset)) }
        try Self.writeFolder(cases, to: folder)
        let pre = try PreprocessedDataset.open(folder)
        var augmentation = AugmentationPreset.nnunetDefault.augmentation(rank: 2)
        augmentation.spatial.rotationProbability = 1
        augmentation.spatial.scaleProbability = 0.5
        let config = DataLoaderConfiguration(batchSize: 4, patchSize: [32, 32], foregroundProbability: 0.5, augmentation: augmentation,
                                             workers: 2, seed: 7, landmarkNames: ["a", "b", "c"],
                                             composition: try BatchComposition(groups: [.init(name: "all", members: [0, 1, 2], perBatch: 4, repeats: 8)]))
        let raw = try DataLoader(count: cases.count, configuration: config) { cases[$0] }
        let mapped = try DataLoader(preprocessed: pre, configuration: config)
        for epoch in 0..<2 {
            let a = raw.batches(epoch: epoch), b = mapped.batches(epoch: epoch)
            var count = 0
            while let x = try a.next() {
                let y = try XCTUnwrap(try b.next())
                XCTAssertEqual(x.ids, y.ids)
                XCTAssertEqual(x.images, y.images, "epoch \(epoch) batch \(x.index)")
                XCTAssertEqual(x.labels, y.labels, "epoch \(epoch) batch \(x.index)")
                XCTAssertEqual(x.tasks, y.tasks)
                XCTAssertEqual(x.landmarkMask, y.landmarkMask)
                for (u, v) in zip(x.landmarkCoordinates, y.landmarkCoordinates) { XCTAssertEqual(u, v, accuracy: 1e-9) }
                count += 1
            }
            XCTAssertNil(try b.next())
            XCTAssertEqual(count, raw.batchesPerEpoch)
            XCTAssertGreaterThan(count, 4)
        }
    }

    /// nnU-Net's per-batch rule on the raw path: in every batch exactly the last round(B · p) samples
    /// are centred on foreground (2 of 6 at p = 0.33), whatever the others draw; shards split the
    /// global batch's rule.
    func testRawPathForcesForegroundInTheLastSlotsOfEachBatch() throws {
        // One foreground voxel per case: uniform 4×4 patches of a 32×32 case rarely hold it.
        let cases = try (0..<3).map { k -> Sample in
            var labels = [UInt8](repeating: 0, count: 32 * 32)
            labels[(5 + 7 * k) * 32 + 20 - 3 * k] = 1
            return Sample(id: "c\(k)", image: [Grid(shape: [32, 32], repeating: Float(1))], labels: try Grid(shape: [32, 32], storage: labels))
        }
        let config = DataLoaderConfiguration(batchSize: 6, patchSize: [4, 4], foregroundProbability: 0.33, workers: 2, seed: 3,
                                             composition: try BatchComposition(groups: [.init(name: "all", members: [0, 1, 2], perBatch: 6, repeats: 40)]))
        let loader = try DataLoader(count: 3, configuration: config) { cases[$0] }
        XCTAssertEqual((0..<6).map { loader.forcesForeground(slot: $0) }, [false, false, false, false, true, true])
        var freeHits = 0, batches = 0
        let it = loader.batches(epoch: 0)
        while let b = try it.next() {
            let hits = (0..<6).map { slot in b.labels![(slot * 16)..<((slot + 1) * 16)].contains(1) }
            XCTAssertEqual(hits[4...].filter { $0 }.count, 2, "batch \(b.index): both forced slots hold foreground")
            freeHits += hits[..<4].filter { $0 }.count
            batches += 1
        }
        XCTAssertEqual(batches, 20)
        XCTAssertLessThan(freeHits, 20, "uniform slots hold foreground about 1 time in 64")
        // Data-parallel: two processes of 3 split the global batch of 6, whose last 2 slots are forced.
        let forced = try (0..<2).map { r in
            let l = try DataLoader(count: 3, configuration: DataLoaderConfiguration(batchSize: 3, patchSize: [4, 4], foregroundProbability: 0.33,
                                                                                 shard: DataShard(index: r, count: 2))) { cases[$0] }
            return (0..<3).map { l.forcesForeground(slot: $0) }
        }
        XCTAssertEqual(forced, [[false, false, false], [false, true, true]])
    }
}
