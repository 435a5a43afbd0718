import Foundation
import XCTest
import Geometry
@testable import Imaging

/// HPL batches (METHODS §5.1): h landmark samples then h segmentation samples per batch, the
/// epoch of the shorter set, per-set repeats, availability carried per sample.
final class BatchCompositionTests: XCTestCase {
    /// Five landmark-only samples (0…4) then three segmentation-only samples (5…7), 12×12.
    static func samples() -> [Sample] {
        (0..<8).map { i in
            var image = Grid<Float>(shape: [12, 12], repeating: 0)
            for y in 0..<12 { for x in 0..<12 { image[y, x] = Float(i * 1000 + y * 12 + x) } }
            if i < 5 {
                // Sample 4's landmark lies outside the image (a crop would do this): masked out, not scored.
                let p: [Double] = i == 4 ? [20, 3] : [Double(2 + i), 5]
                return Sample(id: "land_\(i)", image: [image], landmarks: ["tip": p], tasks: TaskAvailability(labels: [], landmarks: ["tip"]))
            }
            var labels = Grid<UInt8>(shape: [12, 12], repeating: 0)
            labels[6, 6] = 1
            return Sample(id: "seg_\(i)", image: [image], labels: labels, tasks: TaskAvailability(labels: [1], landmarks: []))
        }
    }

    func loader(landmarkRepeats: Int = 1, segmentationRepeats: Int = 1, seed: UInt64 = 3, workers: Int = 2) throws -> DataLoader {
        let data = Self.samples()
        let composition = try BatchComposition(groups: [
            .init(name: "landmark", members: Array(0..<5), perBatch: 2, repeats: landmarkRepeats),
            .init(name: "segmentation", members: Array(5..<8), perBatch: 2, repeats: segmentationRepeats),
        ])
        let config = DataLoaderConfiguration(batchSize: 4, workers: workers, prefetchBatches: 2, seed: seed, landmarkNames: ["tip"],
                                             composition: composition)
        return try DataLoader(count: data.count, configuration: config) { data[$0] }
    }

    func collect(_ loader: DataLoader, epoch: Int) throws -> [Batch] {
        let it = loader.batches(epoch: epoch)
        var out: [Batch] = []
        while let b = try it.next() { out.append(b) }
        return out
    }

    func testLandmarkSamplesFirstThenSegmentationAndTheShorterSetEndsTheEpoch() throws {
        let l = try loader()
        // 5 landmark samples make 2 runs of 2, 3 segmentation samples 1: the epoch is 1 batch.
        XCTAssertEqual(l.batchesPerEpoch, 1)
        XCTAssertEqual(l.epochLength, 4)
        for epoch in 0..<4 {
            let batches = try collect(l, epoch: epoch)
            XCTAssertEqual(batches.count, 1)
            let b = batches[0]
            XCTAssertTrue(b.ids[0..<2].allSatisfy { $0.hasPrefix("land_") }, "\(b.ids)")
            XCTAssertTrue(b.ids[2..<4].allSatisfy { $0.hasPrefix("seg_") }, "\(b.ids)")
            XCTAssertEqual(Set(b.ids).count, 4, "no sample twice without repeats")
            // Availability per sample: label maps only on the segmentation half, landmarks only on the landmark half.
            XCTAssertEqual(b.hasLabels, [false, false, true, true])
            XCTAssertEqual(b.tasks.map(\.hasLandmarks), [true, true, false, false])
            XCTAssertEqual(b.landmarkMask, b.ids.map { $0.hasPrefix("land_") && $0 != "land_4" })
            // The threaded iterator and the synchronous path agree.
            XCTAssertEqual(try l.batch(epoch: epoch, index: 0).ids, b.ids)
        }
        let orders = try (0..<6).map { try collect(l, epoch: $0)[0].ids }
        XCTAssertGreaterThan(Set(orders).count, 1, "each epoch reshuffles")
        XCTAssertEqual(try collect(try loader(workers: 1), epoch: 2)[0].ids, orders[2], "deterministic per seed")
    }

    func testRepeatsLengthenASetAndDrawEachCopyOnce() throws {
        let l = try loader(segmentationRepeats: 3)
        // Segmentation 3 × 3 = 9 draws (4 runs), landmarks 5 (2 runs): 2 batches.
        XCTAssertEqual(l.batchesPerEpoch, 2)
        let order = l.order(epoch: 0)
        XCTAssertEqual(order.count, 8)
        let seg = [order[2], order[3], order[6], order[7]]
        XCTAssertTrue(seg.allSatisfy { (5..<8).contains($0 % 8) && $0 < 24 })
        XCTAssertEqual(Set(seg).count, 4, "a copy r of sample i is drawn as i + r·count, once")
        let land = [order[0], order[1], order[4], order[5]]
        XCTAssertTrue(land.allSatisfy { (0..<5).contains($0) })
        XCTAssertEqual(Set(land).count, 4)
        for b in try collect(l, epoch: 0) {
            XCTAssertEqual(b.hasLabels, [false, false, true, true])
        }
    }

    func testBadCompositionsNameTheProblem() throws {
        XCTAssertThrowsError(try BatchComposition(groups: [.init(name: "landmark", members: [0], perBatch: 2)])) {
            XCTAssertTrue("\($0)".contains("'landmark' has 1 case(s), fewer than the 2"), "\($0)")
        }
        let composition = try BatchComposition(groups: [.init(name: "a", members: [0, 1], perBatch: 1), .init(name: "b", members: [2], perBatch: 1)])
        XCTAssertThrowsError(try DataLoader(count: 3, configuration: DataLoaderConfiguration(batchSize: 4, composition: composition)) { _ in
            Self.samples()[0]
        }) { XCTAssertTrue("\($0)".contains("not the batch size 4"), "\($0)") }
        XCTAssertThrowsError(try DataLoader(count: 2, configuration: DataLoaderConfiguration(batchSize: 2, composition: composition)) { _ in
            Self.samples()[0]
        }) { XCTAssertTrue("\($0)".contains("'b' names a sample outside"), "\($0)") }
    }
}
