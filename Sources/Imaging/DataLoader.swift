#if canImport(Glibc)
import Geometry
import Glibc
#endif

/// How a `DataLoader` turns samples into batches.
public struct DataLoaderConfiguration: Sendable {
    public var batchSize: Int
    /// Crop/pad every sample to this size; nil keeps whole images (they must then share a shape).
    public var patchSize: [Int]?
    /// nnU-Net's foreground oversampling rate: patches (preprocessed or cropped from whole
    /// samples) force foreground in the last round(B · p) slots of each batch (`forcesForeground(slot:)`).
    public var foregroundProbability: Double
    public var augmentation: Augmentation
    public var normalization: Normalization
    public var shuffle: Bool
    /// Drop a last, smaller batch.
    public var dropLast: Bool
    /// Background threads decoding and augmenting.
    public var workers: Int
    /// Bound of the queue: batches prepared ahead of the consumer.
    public var prefetchBatches: Int
    public var seed: UInt64
    /// Order of `Batch.landmarkCoordinates`.
    public var landmarkNames: [String]
    /// Batches made of groups in fixed numbers (HPL: landmark samples, then segmentation samples);
    /// nil: plain shuffled batches of every sample.
    public var composition: BatchComposition?
    /// Data-parallel training: this process (`index`) reads batches index, index + count, … of
    /// every epoch's batch sequence; nil reads them all.
    public var shard: DataShard?
    /// Also collate each sample's label map before geometric augmentation (`Batch.unaugmentedLabels`).
    public var keepUnaugmentedLabels = false

    public init(batchSize: Int, patchSize: [Int]? = nil, foregroundProbability: Double = 0.33,
                augmentation: Augmentation = .none, normalization: Normalization = .none, shuffle: Bool = true,
                dropLast: Bool = false, workers: Int = 2, prefetchBatches: Int = 4, seed: UInt64 = 0,
                landmarkNames: [String] = [], composition: BatchComposition? = nil, shard: DataShard? = nil) {
        self.batchSize = batchSize
        self.patchSize = patchSize
        self.foregroundProbability = foregroundProbability
        self.augmentation = augmentation
        self.normalization = normalization
        self.shuffle = shuffle
        self.dropLast = dropLast
        self.workers = workers
        self.prefetchBatches = prefetchBatches
        self.seed = seed
        self.landmarkNames = landmarkNames
        self.composition = composition
        self.shard = shard
    }
}

/// One process's share of each epoch in data-parallel training: of the epoch's batches (the
/// batches one process would read, in order) it takes every `count`-th from `index`, so the
/// processes' step-k batches together are the single-process batch sequence's global batch k
/// (per-process batch × count samples). The last round wraps to the epoch's first batches when
/// the batches do not divide evenly, so every process takes the same number of steps.
public struct DataShard: Sendable, Equatable {
    public var index: Int
    public var count: Int
    public init(index: Int, count: Int) {
        self.index = index
        self.count = count
    }
}

/// Decodes, normalises, augments and batches samples on background threads.
///
/// Everything random is a function of (seed, epoch, case index): the epoch's order comes from
/// (seed, epoch) and each sample's augmentation generator from (seed, epoch, index), so the
/// batches are identical for a seed whatever the thread timing or worker count. Batches come
/// out in order; at most `prefetchBatches` are prepared ahead. A failing sample (a bad file)
/// makes `next()` throw its error, naming the file, when that batch is reached.
public final class DataLoader: Sendable {
    public let configuration: DataLoaderConfiguration
    /// Number of samples.
    public let count: Int
    let load: @Sendable (Int) throws -> Sample
    /// A loader of cases read by boxes (memory-mapped preprocessed cases): the case and the patch
    /// origin drawn with the sample's generator (the flag: the patch must hold foreground);
    /// augmentation then reads only the box it samples.
    let loadRegion: (@Sendable (Int, Bool, inout SeededGenerator) throws -> (source: SampleSource, origin: [Int]))?

    /// Samples from a closure (index in 0..<count → sample); it must be deterministic.
    public init(count: Int, configuration: DataLoaderConfiguration, load: @escaping @Sendable (Int) throws -> Sample,
                loadRegion: (@Sendable (Int, Bool, inout SeededGenerator) throws -> (source: SampleSource, origin: [Int]))? = nil) throws {
        guard count > 0 else { throw ImagingError("the data loader has no samples") }
        guard configuration.batchSize >= 1 else { throw ImagingError("batch size must be ≥ 1, got \(configuration.batchSize)") }
        guard configuration.workers >= 1, configuration.prefetchBatches >= 1 else {
            throw ImagingError("workers and prefetch batches must be ≥ 1, got \(configuration.workers) and \(configuration.prefetchBatches)")
        }
        if let p = configuration.patchSize, !(p.count == 2 || p.count == 3) || p.contains(where: { $0 < 1 }) {
            throw ImagingError("patch size \(p) must have 2 or 3 positive extents")
        }
        if loadRegion != nil && configuration.patchSize == nil { throw ImagingError("reading cases by boxes needs a patch size") }
        if configuration.dropLast && count < configuration.batchSize {
            throw ImagingError("\(count) samples make no full batch of \(configuration.batchSize) with drop-last")
        }
        if let c = configuration.composition {
            guard c.batchSize == configuration.batchSize else {
                throw ImagingError("the batch groups hold \(c.groups.map { "\($0.perBatch) \($0.name)" }.joined(separator: " + ")) samples, "
                                   + "not the batch size \(configuration.batchSize)")
            }
            if let g = c.groups.first(where: { $0.members.contains { !(0..<count).contains($0) } }) {
                throw ImagingError("batch group '\(g.name)' names a sample outside 0..<\(count)")
            }
        }
        if let sh = configuration.shard, !(sh.count >= 1 && (0..<sh.count).contains(sh.index)) {
            throw ImagingError("data shard \(sh.index) of \(sh.count) is not one of 0…\(sh.count - 1)")
        }
        self.count = count
        self.configuration = configuration
        self.load = load
        self.loadRegion = loadRegion
    }

    /// Cases of a `contour data preprocess` folder (already normalised: keep `normalization` none),
    /// read by memory map (or from memory after `inMemory()`): each sample is a `patchSize` patch,
    /// augmented from the box its rotation/scaling samples (the patch alone without them); whole
    /// cases are never read. As nnU-Net, the last round(B · p) samples of each batch
    /// (`foregroundProbability` p) are centred on a stored foreground voxel, the others drawn uniformly.
    public convenience init(preprocessed: PreprocessedDataset, configuration: DataLoaderConfiguration) throws {
        guard let size = configuration.patchSize else { throw ImagingError("\(preprocessed.folder): memory-mapped loading needs a patch size") }
        if let c = preprocessed.cases.first(where: { $0.shape.count != size.count }) {
            throw ImagingError("\(preprocessed.folder)/\(c.id).npy: a \(c.shape.count)D case, the patch size \(size) is \(size.count)D")
        }
        guard configuration.normalization == .none else {
            throw ImagingError("\(preprocessed.folder): preprocessed cases are already normalised; load them with normalization none")
        }
        try self.init(count: preprocessed.cases.count, configuration: configuration, load: { i in
            try preprocessed.whole(i)
        }, loadRegion: { i, foreground, rng in
            // Probability 1 or 0 from the slot, as the raw path's crop.
            (preprocessed.source(i), preprocessed.origin(i, size: size, foregroundProbability: foreground ? 1 : 0, using: &rng))
        })
    }

    /// nnU-Net's `get_do_oversample`: whether slot `slot` of a batch must hold foreground — the
    /// slots from round(B · (1 − p)) on (Python's round, half to even). With a shard, of the global
    /// batch (this process's slots follow the lower ranks'), as nnU-Net's DDP split of the rate, so
    /// the shards together force what one process would.
    public func forcesForeground(slot: Int) -> Bool {
        let ranks = configuration.shard?.count ?? 1, rank = configuration.shard?.index ?? 0
        let b = Double(configuration.batchSize * ranks)
        return rank * configuration.batchSize + slot >= Int((b * (1 - configuration.foregroundProbability)).rounded(.toNearestOrEven))
    }

    /// The cases of a dataset, read with `Sample.load`.
    public convenience init(cases: [DatasetCase], configuration: DataLoaderConfiguration) throws {
        try self.init(count: cases.count, configuration: configuration) { i in
            let c = cases[i]
            do {
                return try Sample.load(c)
            } catch let e as ImagingError {
                throw e
            } catch {
                throw ImagingError("case \(c.id) (\(c.imagePaths.joined(separator: ", "))): \(error)")
            }
        }
    }

    public var batchesPerEpoch: Int {
        let all = unshardedBatches
        guard let sh = configuration.shard else { return all }
        return (all + sh.count - 1) / sh.count
    }

    /// The epoch's batches before sharding (of `batchSize` each): the units of a data position.
    public var unshardedBatches: Int {
        if let c = configuration.composition { return c.batchesPerEpoch }
        return configuration.dropLast ? count / configuration.batchSize : (count + configuration.batchSize - 1) / configuration.batchSize
    }

    /// Draws per epoch before sharding: every sample once, or a composition's batches × batch size.
    var unshardedLength: Int { configuration.composition.map { $0.batchesPerEpoch * $0.batchSize } ?? count }

    /// Draws per epoch of this process: with a shard, its batches' draws.
    public var epochLength: Int {
        guard let sh = configuration.shard else { return unshardedLength }
        let all = unshardedBatches, per = batchesPerEpoch, b = configuration.batchSize
        // Every batch is full but the unsharded last one, which this shard may read (at most once).
        let last = all - 1, shortBy = b - unshardedRange(last).count
        func reads(_ v: Int) -> Bool { v >= sh.index && (v - sh.index) % sh.count == 0 && (v - sh.index) / sh.count < per }
        // v < per·count < all + count: one wrap at most, unless a single round covers more than all batches.
        let readsLast = per == 1 ? sh.index % all == last : reads(last) || reads(last + all)
        return per * b - (shortBy > 0 && readsLast ? shortBy : 0)
    }

    /// The unsharded batch indices a shard reads, in order, when the epoch's first `offset`
    /// batches are done: offset + index, offset + index + count, … (the last round wraps to the
    /// epoch's first batches). The one short batch, the epoch's last, is always a shard's last.
    func shardBatches(_ sh: DataShard, offset: Int = 0) -> [Int] {
        let all = unshardedBatches
        guard offset < all else { return [] }
        let n = (all - offset + sh.count - 1) / sh.count
        return (0..<n).map { k in (offset + k * sh.count + sh.index) % all }
    }

    func unshardedRange(_ b: Int) -> Range<Int> {
        let lo = b * configuration.batchSize
        return lo..<Swift.min(unshardedLength, lo + configuration.batchSize)
    }

    /// Sample indices of `epoch` in batch order (with a composition, repeats as `index + r·count`)
    /// from unsharded batch `offset` on (a data position: the batches all processes have read);
    /// with a shard, the draws of this process's batches.
    public func order(epoch: Int, offset: Int = 0) -> [Int] {
        let all = unshardedOrder(epoch: epoch)
        guard let sh = configuration.shard else {
            // drop-last leaves the draws of the last, partial batch out.
            let end = Swift.min(all.count, unshardedBatches * configuration.batchSize)
            return Array(all[Swift.min(offset * configuration.batchSize, end)..<end])
        }
        return shardBatches(sh, offset: offset).flatMap { all[unshardedRange($0)] }
    }

    func unshardedOrder(epoch: Int) -> [Int] {
        if let c = configuration.composition {
            let seed = configuration.seed
            return c.order(count: count, generator: configuration.shuffle ? { g in
                SeededGenerator(seed: Self.mix(seed, UInt64(bitPattern: Int64(epoch)), 0x5348_5546, UInt64(g + 1)))
            } : nil)
        }
        var order = Array(0..<count)
        if configuration.shuffle {
            var rng = SeededGenerator(seed: Self.mix(configuration.seed, UInt64(bitPattern: Int64(epoch)), 0x5348_5546))
            order.shuffle(using: &rng)
        }
        return order
    }

    /// The generator of sample `index`'s augmentation in `epoch`.
    public func generator(epoch: Int, index: Int) -> SeededGenerator {
        SeededGenerator(seed: Self.mix(configuration.seed, UInt64(bitPattern: Int64(epoch)), UInt64(index)))
    }

    /// Batches of `epoch` from `startBatch` on (resume position), prepared in the background;
    /// `offset`: the epoch's unsharded batches already read by all processes (`order(epoch:offset:)`).
    public func batches(epoch: Int, startingAt startBatch: Int = 0, offset: Int = 0) -> BatchIterator {
        BatchIterator(loader: self, epoch: epoch, order: order(epoch: epoch, offset: offset), startBatch: Swift.max(0, startBatch))
    }

    /// One batch, synchronously on the calling thread (same result as the iterator's).
    public func batch(epoch: Int, index: Int, order: [Int]? = nil) throws -> Batch {
        let order = order ?? self.order(epoch: epoch)
        let range = positions(ofBatch: index, length: order.count)
        let batchSeed = self.batchSeed(epoch: epoch, first: order[range.lowerBound])
        let samples = try range.map { try sample(epoch: epoch, index: order[$0], slot: $0 - range.lowerBound, batchSeed: batchSeed) }
        return try Batch(samples: samples, epoch: epoch, index: index, landmarkNames: configuration.landmarkNames)
    }

    /// Batch `b`'s positions in an order of `length` draws (every batch is full but the last).
    func positions(ofBatch b: Int, length: Int) -> Range<Int> {
        let lo = b * configuration.batchSize
        return lo..<Swift.min(length, lo + configuration.batchSize)
    }

    /// Loads, normalises and augments sample `index` for `epoch` (a draw `index + r·count` is
    /// sample `index` with its own augmentation) at position `slot` of its batch (which decides
    /// foreground oversampling of patches); `batchSeed` seeds the draws an augmentation makes
    /// once per batch (`Augmentation.perBatch`).
    public func sample(epoch: Int, index: Int, slot: Int = 0, batchSeed: UInt64? = nil) throws -> Sample {
        var rng = generator(epoch: epoch, index: index)
        var batch = SeededGenerator(seed: batchSeed ?? Self.mix(configuration.seed, UInt64(bitPattern: Int64(epoch)), 0xBA7C, UInt64(index)))
        let forced = forcesForeground(slot: slot)
        if let loadRegion, let size = configuration.patchSize {
            var (source, origin) = try loadRegion(index % count, forced, &rng)
            source.keepsUnaugmentedLabels = configuration.keepUnaugmentedLabels
            return try configuration.augmentation.apply(source, origin: origin, size: size, using: &rng, batch: &batch)
        }
        var s = try load(index % count)
        try s.validate()
        configuration.normalization.apply(to: &s)
        // nnU-Net's per-batch rule on every path: the slot decides, the crop only places the patch.
        let crop = configuration.patchSize.map { CropPad(patchSize: $0, foregroundProbability: forced ? 1 : 0) }
        if configuration.keepUnaugmentedLabels { s.unaugmentedLabels = s.labels }
        return try configuration.augmentation.apply(s, crop: crop, using: &rng, batch: &batch)
    }

    /// The seed of a batch's once-per-batch draws: from the epoch and the batch's first draw
    /// (unique within an epoch, so shards of a distributed run differ).
    public func batchSeed(epoch: Int, first: Int) -> UInt64 {
        Self.mix(configuration.seed, UInt64(bitPattern: Int64(epoch)), 0xBA7C, UInt64(first))
    }

    static func mix(_ parts: UInt64...) -> UInt64 {
        var h: UInt64 = 0x243F_6A88_85A3_08D3
        for p in parts {
            var g = SeededGenerator(seed: h ^ p)
            h = g.next()
        }
        return h
    }
}

/// Yields an epoch's batches in order while worker threads prepare the next ones.
/// `cancel()` (or releasing the iterator) stops and joins the workers.
public final class BatchIterator: @unchecked Sendable {
    let loader: DataLoader
    public let epoch: Int
    let order: [Int]
    let startBatch: Int
    let endBatch: Int
    let monitor = Monitor()
    // Guarded by `monitor`.
    var nextPosition: Int
    var nextBatch: Int
    /// Batches under way: each sample is copied into its slot as soon as it is made.
    var pending: [Int: BatchCollator] = [:]
    var remaining: [Int: Int] = [:]
    var failures: [Int: (position: Int, error: Error)] = [:]
    var ready: [Int: Result<Batch, Error>] = [:]
    var cancelled = false
    /// The workers. They run detached (an iterator kept alive past its epoch — a test case holding
    /// it — would otherwise leave finished threads unjoined); `cancel()` waits for them to leave.
    let workers = WorkerGroup()
    /// Set when no worker thread could start: batches are then made on the caller's thread.
    var synchronous = false

    init(loader: DataLoader, epoch: Int, order: [Int], startBatch: Int) {
        _ = AllocatorTuning.applied
        self.loader = loader
        self.epoch = epoch
        self.order = order
        self.startBatch = startBatch
        endBatch = (order.count + loader.configuration.batchSize - 1) / loader.configuration.batchSize
        nextBatch = startBatch
        nextPosition = startBatch * loader.configuration.batchSize
        guard startBatch < endBatch else { return }
        var attributes = pthread_attr_t()
        pthread_attr_init(&attributes)
        pthread_attr_setdetachstate(&attributes, Int32(PTHREAD_CREATE_DETACHED))
        defer { pthread_attr_destroy(&attributes) }
        var started = 0
        for _ in 0..<loader.configuration.workers {
            // The worker holds no reference to self (guaranteed-ref call, no retain), so once it
            // leaves the group nothing of it outlives `deinit`'s wait.
            let me = Unmanaged.passUnretained(self)
            let box = Unmanaged.passRetained(WorkerBox { [workers] in
                me._withUnsafeGuaranteedRef { $0.work() }
                workers.leave()
            }).toOpaque()
            workers.enter()
            var thread = pthread_t()
            if pthread_create(&thread, &attributes, { raw in
                Unmanaged<WorkerBox>.fromOpaque(raw!).takeRetainedValue().body()
                return nil
            }, box) == 0 {
                started += 1
            } else {
                workers.leave()
                Unmanaged<WorkerBox>.fromOpaque(box).release()
            }
        }
        // `deinit` waits for the workers before the memory goes, hence the unretained reference above.
        synchronous = started == 0
    }

    deinit { cancel() }

    /// The next batch, nil at the end of the epoch; throws the error of a failed sample.
    public func next() throws -> Batch? {
        monitor.lock()
        defer { monitor.unlock() }
        guard nextBatch < endBatch, !cancelled else { return nil }
        let k = nextBatch
        if synchronous {
            nextBatch += 1
            return try loader.batch(epoch: epoch, index: k, order: order)
        }
        while ready[k] == nil && !cancelled { monitor.wait() }
        guard let _ = ready[k] else { return nil }  // cancelled
        let result = ready.removeValue(forKey: k)!
        nextBatch += 1
        monitor.broadcast()
        switch result {
        case .success(let batch): return batch
        case .failure(let error):
            cancelled = true
            throw error
        }
    }

    /// Stops the workers and waits until each has left `work()`.
    public func cancel() {
        monitor.lock()
        cancelled = true
        monitor.broadcast()
        monitor.unlock()
        workers.wait()
    }

    func work() {
        let batchSize = loader.configuration.batchSize, ahead = loader.configuration.prefetchBatches
        let total = order.count
        monitor.lock()
        while true {
            if cancelled { break }
            let position = nextPosition
            let range = loader.positions(ofBatch: position / batchSize, length: total)
            guard position < total else { break }
            let b = position / batchSize
            if b >= nextBatch + ahead { monitor.wait(); continue }
            nextPosition += 1
            if pending[b] == nil {
                pending[b] = BatchCollator(count: range.count)
                remaining[b] = range.count
            }
            monitor.unlock()
            let seed = loader.batchSeed(epoch: epoch, first: order[range.lowerBound])
            let result = Result { try loader.sample(epoch: epoch, index: order[position], slot: position - range.lowerBound, batchSeed: seed) }
            monitor.lock()
            switch result {
            case .success(let s):
                if let slot = pending[b]!.register(s, slot: position - range.lowerBound) {
                    monitor.unlock()
                    BatchCollator.copy(s, into: slot)
                    monitor.lock()
                }
            case .failure(let e):
                if failures[b] == nil || failures[b]!.position > position { failures[b] = (position, e) }
            }
            remaining[b]! -= 1
            if remaining[b] == 0 {
                // Every slot's copy has returned (each was counted under the lock after it).
                let collator = pending.removeValue(forKey: b)!
                let failure = failures.removeValue(forKey: b)
                remaining[b] = nil
                monitor.unlock()
                let batch: Result<Batch, Error>
                if let failure {
                    batch = .failure(failure.error)
                } else if collator.misfit {
                    // A sample of another shape or an invalid one: the batch made again as one piece, whose collation names the case.
                    batch = Result { try loader.batch(epoch: epoch, index: b, order: order) }
                } else {
                    batch = .success(collator.batch(epoch: epoch, index: b, landmarkNames: loader.configuration.landmarkNames))
                }
                monitor.lock()
                ready[b] = batch
                monitor.broadcast()
            }
        }
        monitor.unlock()
    }
}

/// Counts running threads; `wait()` returns once all have left (a DispatchGroup on a Monitor,
/// whose pthread primitives the thread sanitizer understands).
final class WorkerGroup: @unchecked Sendable {
    private let monitor = Monitor()
    private var count = 0
    func enter() { monitor.lock(); count += 1; monitor.unlock() }
    func leave() { monitor.lock(); count -= 1; monitor.broadcast(); monitor.unlock() }
    func wait() { monitor.lock(); while count > 0 { monitor.wait() }; monitor.unlock() }
}

final class WorkerBox {
    let body: () -> Void
    init(_ body: @escaping () -> Void) { self.body = body }
}

/// A mutex with one condition variable.
final class Monitor: @unchecked Sendable {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let condition = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    init() {
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(condition, nil)
    }
    deinit {
        pthread_cond_destroy(condition)
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
        condition.deallocate()
    }
    func lock() { pthread_mutex_lock(mutex) }
    func unlock() { pthread_mutex_unlock(mutex) }
    func wait() { pthread_cond_wait(condition, mutex) }
    func broadcast() { pthread_cond_broadcast(condition) }
}
