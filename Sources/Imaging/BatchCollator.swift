import Geometry

/// Collates a batch while its samples are made: each worker copies its sample into the sample's
/// slot of the batch arrays as soon as it is done (in parallel, while the sample is still in
/// cache), so the batch's last sample leaves nothing to copy. The result equals
/// `Batch(samples:)` of the same samples element for element.
///
/// The layout (shape, channels) is the first placed sample's; a label map is allocated when the
/// first sample carrying one is placed (slots placed before it without one are zeroed, as
/// `Batch.collate` does). A sample of another shape or channel count (or an invalid one) does
/// not fit: the caller then makes the batch again (`DataLoader.batch`), whose
/// `Batch(samples:)` throws naming the case.
///
/// Threading: `register` runs under the caller's lock; `copy` runs unlocked on the addresses
/// `register` returned, each slot written by one thread only; `batch` runs once every slot's
/// `copy` has returned (the caller counts them under its lock, which orders the writes before
/// it). The arrays' storage is owned here, never resized, and only handed out by `batch`, so
/// those addresses stay valid.
final class BatchCollator: @unchecked Sendable {
    let count: Int
    private(set) var spatial: [Int] = []
    private(set) var channels = 0
    private(set) var voxels = 0
    private var images = Plane<Float>()
    private var maps = [Plane<UInt8>](repeating: Plane(), count: 3)
    /// Per slot: the sample's batch metadata once registered.
    private var infos: [Batch.SampleInfo?]
    /// A sample that did not fit the layout.
    private(set) var misfit = false

    init(count: Int) {
        self.count = count
        infos = Array(repeating: nil, count: count)
    }

    /// An array and the address of its storage.
    private struct Plane<T> {
        var array: [T]?
        var base: UnsafeMutablePointer<T>?
    }

    /// The label-like maps a sample carries, in the order of `maps`.
    private static func maps(_ s: Sample) -> [Grid<UInt8>?] { [s.labels, s.unaugmentedLabels, s.pseudoLabels] }

    /// Where one sample's pixels go: its image slot and, per map that exists at its
    /// registration, its slot there (nil: the map does not exist yet; if it comes later, it zeroes
    /// this slot itself).
    struct Slot {
        let image: UnsafeMutablePointer<Float>
        let maps: [UnsafeMutablePointer<UInt8>?]
        let channelVoxels: Int
    }

    /// Claims slot `slot` for `sample` (under the lock), allocating what it needs first; nil when
    /// the sample does not fit (it is then not copied).
    func register(_ sample: Sample, slot: Int) -> Slot? {
        guard !misfit, (try? sample.validate()) != nil else { misfit = true; return nil }
        if images.base == nil {
            spatial = sample.shape
            channels = sample.channelCount
            voxels = spatial.reduce(1, *)
            images = Self.allocate(count * channels * voxels)
        }
        guard sample.shape == spatial, sample.channelCount == channels else { misfit = true; return nil }
        for (m, grid) in Self.maps(sample).enumerated() where grid != nil && maps[m].base == nil {
            maps[m] = Self.allocate(count * voxels)
            // Every slot registered before lacks this map (it did not exist): zeros, as `Batch.collate`.
            for s in 0..<count where infos[s] != nil { (maps[m].base! + s * voxels).initialize(repeating: 0, count: voxels) }
        }
        infos[slot] = Batch.SampleInfo(sample)
        return Slot(image: images.base! + slot * channels * voxels, maps: maps.map { $0.base.map { $0 + slot * voxels } }, channelVoxels: voxels)
    }

    /// Copies a registered sample's pixels into its slot (unlocked, touching only the slot's
    /// memory): its channels, its maps, and zeros in the existing maps it lacks.
    static func copy(_ sample: Sample, into slot: Slot) {
        let n = slot.channelVoxels
        for (c, grid) in sample.image.enumerated() {
            grid.storage.withUnsafeBufferPointer { (slot.image + c * n).initialize(from: $0.baseAddress!, count: n) }
        }
        for (grid, target) in zip(maps(sample), slot.maps) {
            guard let target else { continue }
            if let grid {
                grid.storage.withUnsafeBufferPointer { target.initialize(from: $0.baseAddress!, count: n) }
            } else {
                target.initialize(repeating: 0, count: n)
            }
        }
    }

    /// The batch, once every slot's copy has returned (the caller counted the last one under its lock).
    func batch(epoch: Int, index: Int, landmarkNames: [String]) -> Batch {
        Batch(epoch: epoch, index: index, imageShape: [count, channels] + spatial, images: images.array!,
              labels: maps[0].array, unaugmentedLabels: maps[1].array, pseudoLabels: maps[2].array,
              infos: infos.map { $0! }, landmarkNames: landmarkNames)
    }

    /// Storage of `n` elements for the workers to fill: every element is written (a copy or
    /// zeros) before `batch` hands the array out, so it is not zero-filled first.
    private static func allocate<T: BitwiseCopyable>(_ n: Int) -> Plane<T> {
        var array = [T](unsafeUninitializedCapacity: n) { _, initialised in initialised = n }
        let base = array.withUnsafeMutableBufferPointer { $0.baseAddress! }
        return Plane(array: array, base: base)
    }
}
