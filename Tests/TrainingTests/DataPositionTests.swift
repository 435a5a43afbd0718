import XCTest
import Geometry
@testable import Imaging
@testable import Training

/// The data position counts global samples, so a resume with another number of workers or batch
/// size continues with the samples that follow (issue 12).
final class DataPositionTests: XCTestCase {
    func loader(count: Int, batch: Int, workers: Int?) throws -> DataLoader {
        let config = DataLoaderConfiguration(batchSize: batch, workers: 1, prefetchBatches: 1, seed: 1,
                                             shard: workers.map { DataShard(index: 0, count: $0) })
        return try DataLoader(count: count, configuration: config) { i in
            Sample(id: "c\(i)", image: [Grid<Float>(shape: [2, 2], repeating: Float(i))], labels: nil)
        }
    }

    func testStepsAdvanceByTheGlobalBatchAndWrapTheEpoch() throws {
        // 10 samples in batches of 2: 5 unsharded batches per epoch; 2 workers read 2 of them a step.
        let two = try loader(count: 10, batch: 2, workers: 2)
        var p = DataPosition()
        var seen: [(Int, Int)] = []
        for _ in 0..<4 {
            let offset = p.offset(in: two)
            seen.append((p.epoch, offset))
            p.advance(in: two)
        }
        XCTAssertEqual(seen.map(\.0), [0, 0, 0, 1])
        XCTAssertEqual(seen.map(\.1), [0, 2, 4, 0])
        XCTAssertEqual(p, DataPosition(epoch: 1, samples: 4))
        // Continued by one process with batches of 4: the next samples (4…) are its batch 1 of epoch 1.
        let one = try loader(count: 10, batch: 4, workers: nil)
        XCTAssertEqual(p.offset(in: one), 1)
        p.advance(in: one)
        XCTAssertEqual(p, DataPosition(epoch: 1, samples: 8))
        p.advance(in: one)
        XCTAssertEqual(p.offset(in: one), 0)
        XCTAssertEqual(p.epoch, 2)
    }

    func testOlderCheckpointsDeriveThePositionFromTheIteration() throws {
        // 2 workers, 5 unsharded batches → 3 steps per epoch; iteration 4 is step 1 of epoch 1.
        XCTAssertEqual(DataPosition(iteration: 4, loader: try loader(count: 10, batch: 2, workers: 2)), DataPosition(epoch: 1, samples: 4))
        XCTAssertEqual(DataPosition(iteration: 7, loader: try loader(count: 10, batch: 2, workers: nil)), DataPosition(epoch: 1, samples: 4))
    }
}
