import Imaging

/// Where a stage's data stream stands, in global terms: the loader epoch and how many samples of
/// its unsharded batch sequence all workers together have read. Saved in checkpoints, so that a
/// resume with another number of workers (or per-worker batch size) continues with the samples
/// that follow, not with a position that only meant something at the old world size.
public struct DataPosition: Codable, Sendable, Equatable {
    public var epoch = 0
    public var samples = 0

    public init(epoch: Int = 0, samples: Int = 0) {
        self.epoch = epoch
        self.samples = samples
    }

    /// The position of a checkpoint without one (older versions): `iteration` steps of `loader`,
    /// each its batches-per-epoch share of the epoch.
    public init(iteration: Int, loader: DataLoader) {
        let per = Swift.max(loader.batchesPerEpoch, 1)
        let workers = loader.configuration.shard?.count ?? 1
        self.init(epoch: iteration / per, samples: (iteration % per) * workers * loader.configuration.batchSize)
    }

    /// The unsharded batches already read in `epoch`, for `loader`'s batch size; a finished epoch
    /// moves the position to the start of the next.
    public mutating func offset(in loader: DataLoader) -> Int {
        let offset = samples / loader.configuration.batchSize
        if offset >= loader.unshardedBatches {
            epoch += 1
            samples = 0
            return 0
        }
        return offset
    }

    /// After one step of all workers: each read one batch.
    public mutating func advance(in loader: DataLoader) {
        let b = loader.configuration.batchSize
        samples = (samples / b + (loader.configuration.shard?.count ?? 1)) * b
    }
}
