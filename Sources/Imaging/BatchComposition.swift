import Geometry

/// Batches drawn from groups of samples in fixed numbers, in group order: BaBLoss's HPL batches
/// (METHODS §5.1) hold h landmark samples then h segmentation samples, one forward pass.
///
/// As the official `zip(landmark_loader, segmentation_loader)` of two shuffled drop-last loaders:
/// each group's members (repeated `repeats` times, e.g. the knee landmark set ×3) are shuffled
/// per epoch on their own, cut into runs of `perBatch`, and batch b is run b of every group; the
/// epoch ends with the shortest group. A member's r-th copy is drawn as `index + r·count`, so
/// repeats get their own augmentation (`DataLoader.sample` loads `index mod count`).
public struct BatchComposition: Sendable, Equatable {
    public struct Group: Sendable, Equatable {
        public var name: String
        /// Sample indices of the loader in this group.
        public var members: [Int]
        public var perBatch: Int
        public var repeats: Int
        public init(name: String, members: [Int], perBatch: Int, repeats: Int = 1) {
            self.name = name
            self.members = members
            self.perBatch = perBatch
            self.repeats = repeats
        }
    }

    public var groups: [Group]

    public init(groups: [Group]) throws {
        guard !groups.isEmpty else { throw ImagingError("a batch composition needs at least one group") }
        for g in groups {
            guard g.perBatch >= 1, g.repeats >= 1 else {
                throw ImagingError("batch group '\(g.name)': samples per batch and repeats must be ≥ 1, got \(g.perBatch) and \(g.repeats)")
            }
            guard g.members.count * g.repeats >= g.perBatch else {
                throw ImagingError("batch group '\(g.name)' has \(g.members.count) case(s)\(g.repeats > 1 ? " × \(g.repeats)" : ""), "
                                   + "fewer than the \(g.perBatch) it puts in every batch")
            }
        }
        self.groups = groups
    }

    public var batchSize: Int { groups.map(\.perBatch).reduce(0, +) }

    /// The shortest group's number of full runs.
    public var batchesPerEpoch: Int { groups.map { $0.members.count * $0.repeats / $0.perBatch }.min()! }

    /// The epoch's draws in batch order (`batchesPerEpoch × batchSize` of them); `count` is the
    /// loader's number of samples, `generator(g)` group g's shuffling generator (nil: no shuffle).
    public func order(count: Int, generator: ((Int) -> SeededGenerator)?) -> [Int] {
        let runs: [[Int]] = groups.enumerated().map { gi, g in
            var draws = (0..<g.repeats).flatMap { r in g.members.map { $0 + r * count } }
            if var rng = generator?(gi) { draws.shuffle(using: &rng) }
            return draws
        }
        var order: [Int] = []
        order.reserveCapacity(batchesPerEpoch * batchSize)
        for b in 0..<batchesPerEpoch {
            for (g, draws) in zip(groups, runs) { order += draws[(b * g.perBatch)..<((b + 1) * g.perBatch)] }
        }
        return order
    }
}
