import Foundation
import XCTest
import Geometry
@testable import Imaging

final class DataLoaderTests: XCTestCase {
    /// Ten in-memory samples of differing content, 12×12 with labels and a landmark.
    static func samples() -> [Sample] {
        (0..<10).map { i in
            var image = Grid<Float>(shape: [12, 12], repeating: 0)
            var labels = Grid<UInt8>(shape: [12, 12], repeating: 0)
            for y in 0..<12 { for x in 0..<12 {
                image[y, x] = Float(i * 1000 + y * 12 + x)
                labels[y, x] = (y - 3 - i % 4) * (y - 3 - i % 4) + (x - 6) * (x - 6) < 9 ? 1 : 0
            } }
            let tasks = TaskAvailability(labels: i % 3 == 2 ? [] : [1], landmarks: i % 3 == 1 ? [] : ["tip"])
            return Sample(id: "case_\(i)", image: [image], labels: labels, landmarks: ["tip": [Double(3 + i % 4), 6]], tasks: tasks)
        }
    }

    func loader(workers: Int = 2, seed: UInt64 = 42) throws -> DataLoader {
        let data = Self.samples()
        let config = DataLoaderConfiguration(
            batchSize: 3, patchSize: [8, 8], augmentation: AugmentationPreset.nnunetDefault.augmentation(rank: 2),
            normalization: .zScore, workers: workers, prefetchBatches: 2, seed: seed, landmarkNames: ["tip"])
        return try DataLoader(count: data.count, configuration: config) { data[$0] }
    }

    func collect(_ it: BatchIterator) throws -> [Batch] {
        var out: [Batch] = []
        while let b = try it.next() { out.append(b) }
        return out
    }

    func assertSame(_ a: [Batch], _ b: [Batch], file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.count, b.count, file: file, line: line)
        for (x, y) in zip(a, b) {
            XCTAssertEqual(x.ids, y.ids, file: file, line: line)
            XCTAssertEqual(x.images, y.images, file: file, line: line)
            XCTAssertEqual(x.labels, y.labels, file: file, line: line)
            XCTAssertEqual(x.landmarkCoordinates, y.landmarkCoordinates, file: file, line: line)
            XCTAssertEqual(x.index, y.index, file: file, line: line)
        }
    }

    func testOrderAndAugmentationAreDeterministicAcrossRunsAndThreads() throws {
        let l = try loader()
        let first = try collect(l.batches(epoch: 0))
        XCTAssertEqual(first.count, 4)  // 10 samples, batches of 3, last one short
        XCTAssertEqual(first.map(\.batchSize), [3, 3, 3, 1])
        XCTAssertEqual(Set(first.flatMap(\.ids)).count, 10)
        XCTAssertEqual(first[0].imageShape, [3, 1, 8, 8])
        XCTAssertEqual(first[0].labels?.count, 3 * 64)
        for _ in 0..<3 { assertSame(first, try collect(l.batches(epoch: 0))) }
        assertSame(first, try collect(try loader(workers: 1).batches(epoch: 0)))
        assertSame(first, try (0..<4).map { try l.batch(epoch: 0, index: $0) })
        // Another epoch: another order; another seed: other batches.
        XCTAssertNotEqual(first.flatMap(\.ids), try collect(l.batches(epoch: 1)).flatMap(\.ids))
        XCTAssertNotEqual(first[0].images, try collect(try loader(seed: 43).batches(epoch: 0))[0].images)
    }

    func loader(batch: Int, shard: DataShard?) throws -> DataLoader {
        let data = Self.samples()
        let config = DataLoaderConfiguration(
            batchSize: batch, patchSize: [8, 8], augmentation: AugmentationPreset.nnunetDefault.augmentation(rank: 2),
            normalization: .zScore, workers: 2, prefetchBatches: 2, seed: 42, landmarkNames: ["tip"], shard: shard)
        return try DataLoader(count: data.count, configuration: config) { data[$0] }
    }

    /// Data-parallel shards: step k's batches of the shards, in rank order, are the samples (and
    /// augmentations) of one process's batch k with the global batch size.
    func testShardsTogetherAreTheGlobalBatches() throws {
        for epoch in 0..<2 {
            let global = try collect(try loader(batch: 6, shard: nil).batches(epoch: epoch))
            let shards = try (0..<2).map { try collect(try loader(batch: 3, shard: DataShard(index: $0, count: 2)).batches(epoch: epoch)) }
            XCTAssertEqual(global.map(\.batchSize), [6, 4])
            XCTAssertEqual(shards.map { $0.map(\.batchSize) }, [[3, 3], [3, 1]])
            for k in 0..<2 {
                XCTAssertEqual(shards[0][k].ids + shards[1][k].ids, global[k].ids)
                XCTAssertEqual(shards[0][k].images + shards[1][k].images, global[k].images)
            }
        }
        // Three shards of four batches: every shard takes two steps; the last round wraps to the first batches.
        let plain = try collect(try loader(batch: 3, shard: nil).batches(epoch: 0)).map(\.ids)
        for (r, expected) in [[0, 3], [1, 0], [2, 1]].enumerated() {
            let l = try loader(batch: 3, shard: DataShard(index: r, count: 3))
            XCTAssertEqual(l.batchesPerEpoch, 2)
            XCTAssertEqual(l.epochLength, expected.map { plain[$0].count }.reduce(0, +))
            XCTAssertEqual(try collect(l.batches(epoch: 0)).map(\.ids), expected.map { plain[$0] })
        }
        XCTAssertThrowsError(try loader(batch: 3, shard: DataShard(index: 2, count: 2))) { XCTAssertTrue("\($0)".contains("shard 2 of 2")) }
    }

    /// A data position (unsharded batches all processes read) continued by another number of
    /// shards: they read the batches that follow, whatever the shard count before.
    func testShardsContinueFromAnOffset() throws {
        let plain = try collect(try loader(batch: 3, shard: nil).batches(epoch: 1)).map(\.ids)
        XCTAssertEqual(plain.map(\.count), [3, 3, 3, 1])
        // One process from batch 2.
        XCTAssertEqual(try collect(try loader(batch: 3, shard: nil).batches(epoch: 1, offset: 2)).map(\.ids), [plain[2], plain[3]])
        // Three shards from batch 2: one round of batches 2, 3 and (wrapped) 0; the short batch is its shard's last.
        for (r, expected) in [[2], [3], [0]].enumerated() {
            let l = try loader(batch: 3, shard: DataShard(index: r, count: 3))
            XCTAssertEqual(try collect(l.batches(epoch: 1, offset: 2)).map(\.ids), expected.map { plain[$0] }, "rank \(r)")
            XCTAssertEqual(l.order(epoch: 1, offset: 2).count, expected.map { plain[$0].count }.reduce(0, +))
        }
        // Two shards from batch 1: rounds (1, 2), (3, 0 wrapped).
        for (r, expected) in [[1, 3], [2, 0]].enumerated() {
            let l = try loader(batch: 3, shard: DataShard(index: r, count: 2))
            XCTAssertEqual(try collect(l.batches(epoch: 1, offset: 1)).map(\.ids), expected.map { plain[$0] }, "rank \(r)")
        }
        XCTAssertNil(try loader(batch: 3, shard: DataShard(index: 0, count: 2)).batches(epoch: 1, offset: 4).next())
    }

    func testResumeStartsAtTheGivenBatch() throws {
        let l = try loader()
        let full = try collect(l.batches(epoch: 3))
        let resumed = try collect(l.batches(epoch: 3, startingAt: 2))
        assertSame(Array(full[2...]), resumed)
        XCTAssertEqual(resumed.first?.index, 2)
        XCTAssertEqual(resumed.first?.epoch, 3)
        XCTAssertNil(try l.batches(epoch: 3, startingAt: 4).next())
    }

    func testEarlyStopAndCancel() throws {
        let l = try loader()
        for _ in 0..<5 {
            let it = l.batches(epoch: 0)
            _ = try it.next()
            it.cancel()
            XCTAssertNil(try it.next())
        }
        do { _ = try l.batches(epoch: 0).next() }  // released while workers run ahead
    }

    func testTasksAndLandmarkMaskReachTheBatch() throws {
        let data = Self.samples()
        let config = DataLoaderConfiguration(batchSize: 10, shuffle: false, landmarkNames: ["tip"])
        let l = try DataLoader(count: 10, configuration: config) { data[$0] }
        let b = try XCTUnwrap(try l.batches(epoch: 0).next())
        XCTAssertEqual(b.imageShape, [10, 1, 12, 12])
        XCTAssertEqual(b.tasks.map(\.hasSegmentation), (0..<10).map { $0 % 3 != 2 })
        XCTAssertEqual(b.landmarkMask, (0..<10).map { $0 % 3 != 1 })
        XCTAssertEqual(Array(b.landmarkCoordinates[0..<2]), [3, 6])
        XCTAssertEqual(Array(b.landmarkCoordinates[2..<4]), [0, 0])  // masked
        XCTAssertEqual(Array(b.images[0..<3]), [0, 1, 2])
    }

    func testBadFileErrorNamesTheFile() throws {
        let dir = NSTemporaryDirectory() + "contour-loader-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.createDirectory(atPath: dir + "/imagesTr", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: dir + "/labelsTr", withIntermediateDirectories: true)
        try DatasetDescription(channelNames: ["gray"], labels: ["background": 0, "fg": 1], numTraining: 4, fileEnding: ".png")
            .write(path: dir + "/dataset.json")
        for i in 0..<4 {
            var g = Grid<UInt16>(shape: [8, 8], repeating: UInt16(i))
            g[2, 2] = 1
            try PNGFile.write(g, path: "\(dir)/imagesTr/c\(i)_0000.png")
            try ImageFile.writeLabels(g.map { UInt8($0 == 1 ? 1 : 0) }, path: "\(dir)/labelsTr/c\(i).png")
        }
        let bad = "\(dir)/imagesTr/c2_0000.png"
        let bytes = try Data(contentsOf: URL(fileURLWithPath: bad))
        try bytes.prefix(bytes.count / 2).write(to: URL(fileURLWithPath: bad))
        let dataset = try Dataset.open(dir)
        let l = try DataLoader(cases: dataset.training, configuration: DataLoaderConfiguration(batchSize: 2, shuffle: false))
        let it = l.batches(epoch: 0)
        XCTAssertEqual(try it.next()?.ids, ["c0", "c1"])
        XCTAssertThrowsError(try it.next()) { e in XCTAssertTrue("\(e)".contains("c2_0000.png"), "\(e)") }
        XCTAssertNil(try it.next())
    }
    /// Workers collate into slots; a batch mixing samples with and without label maps, or of
    /// samples that cannot be batched, comes out as the synchronous `Batch(samples:)` does.
    func testMixedLabelsAndMismatchedShapesMatchTheSynchronousBatch() throws {
        let data = Self.samples()
        let config = DataLoaderConfiguration(batchSize: 4, patchSize: [8, 8], augmentation: AugmentationPreset.nnunetDefault.augmentation(rank: 2),
                                             workers: 3, prefetchBatches: 2, seed: 3, landmarkNames: ["tip"])
        let mixed = try DataLoader(count: 10, configuration: config) { i in
            var s = data[i]
            if i % 2 == 0 { s.labels = nil }
            return s
        }
        let batches = try collect(mixed.batches(epoch: 2))
        assertSame(batches, try (0..<3).map { try mixed.batch(epoch: 2, index: $0) })
        XCTAssertEqual(batches.flatMap(\.hasLabels), mixed.order(epoch: 2).map { $0 % 2 == 1 })
        // Whole samples of two shapes: the batch's error names the case, as the synchronous one's.
        var plain = config
        plain.patchSize = nil
        let shapes = try DataLoader(count: 4, configuration: plain) { i in
            i == 2 ? Sample(id: "odd", image: [Grid(shape: [9, 12], repeating: 1)]) : data[i]
        }
        let it = shapes.batches(epoch: 0)
        XCTAssertThrowsError(try it.next()) { e in XCTAssertTrue("\(e)".contains("cannot be batched"), "\(e)") }
    }
}
