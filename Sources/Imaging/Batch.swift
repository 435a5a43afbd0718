import Geometry

/// A collated batch, laid out for direct conversion to tensors.
///
/// `images` is [B, C, spatial…] and `labels` [B, spatial…] (row-major, last axis fastest).
/// Samples without a label map contribute zeros; `tasks[b]` says which targets sample `b`
/// really carries, so losses mask the rest.
public struct Batch: Sendable {
    public var epoch: Int
    /// Position of this batch within its epoch (for resuming).
    public var index: Int
    public var ids: [String]
    /// [B, C, spatial…]
    public var imageShape: [Int]
    public var images: [Float]
    /// [B, spatial…] when any sample has a label map.
    public var labels: [UInt8]?
    /// [B, spatial…] label maps before geometric augmentation, when the loader keeps them.
    public var unaugmentedLabels: [UInt8]?
    /// Per sample: whether it has a label map (the zeros in `labels` of one that has none mean nothing).
    public var hasLabels: [Bool]
    public var tasks: [TaskAvailability]
    /// Per sample: landmark name → numpy-order voxel coordinates in the batch's patch.
    public var landmarks: [[String: [Double]]]
    /// The loader's landmark names, the order of `landmarkCoordinates`.
    public var landmarkNames: [String]
    /// [B, K, rank], zero where `landmarkMask` is false.
    public var landmarkCoordinates: [Double]
    /// [B, K]: whether sample b has landmark k inside its patch.
    public var landmarkMask: [Bool]
    /// [B, spatial…] pseudo labels when any sample has them (zeros for one that has none).
    public var pseudoLabels: [UInt8]?
    /// Per sample: the classes its pseudo-label file holds (empty: no pseudo labels).
    public var pseudoClasses: [Set<Int>]

    public var batchSize: Int { imageShape[0] }
    public var channelCount: Int { imageShape[1] }
    public var spatialShape: [Int] { Array(imageShape.dropFirst(2)) }
    /// [B, spatial…]
    public var labelShape: [Int] { [imageShape[0]] + spatialShape }

    /// Collates samples of one shape; throws naming the case whose shape or channel count differs.
    public init(samples: [Sample], epoch: Int, index: Int, landmarkNames: [String]) throws {
        guard let first = samples.first else { throw ImagingError("a batch needs at least one sample") }
        let spatial = first.shape, channels = first.channelCount
        let voxels = spatial.reduce(1, *)
        for s in samples {
            guard s.shape == spatial, s.channelCount == channels else {
                throw ImagingError("case \(s.id): shape \(s.shape) × \(s.channelCount) channels cannot be batched with case \(first.id)'s \(spatial) × \(channels); set a patch size")
            }
            try s.validate()
        }
        // Every element is copied once (no zero fill first).
        let images = [Float](unsafeUninitializedCapacity: samples.count * channels * voxels) { dst, initialised in
            for (b, s) in samples.enumerated() {
                for (c, grid) in s.image.enumerated() {
                    grid.storage.withUnsafeBufferPointer { src in
                        (dst.baseAddress! + (b * channels + c) * voxels).initialize(from: src.baseAddress!, count: voxels)
                    }
                }
            }
            initialised = samples.count * channels * voxels
        }
        self.init(epoch: epoch, index: index, imageShape: [samples.count, channels] + spatial, images: images,
                  labels: Self.collate(samples.map(\.labels), voxels: voxels),
                  unaugmentedLabels: Self.collate(samples.map(\.unaugmentedLabels), voxels: voxels),
                  pseudoLabels: Self.collate(samples.map(\.pseudoLabels), voxels: voxels),
                  infos: samples.map(SampleInfo.init), landmarkNames: landmarkNames)
    }

    /// What a batch keeps of a sample besides its pixels.
    struct SampleInfo {
        var id: String
        var hasLabels: Bool
        var pseudoClasses: Set<Int>
        var tasks: TaskAvailability
        var landmarks: [String: [Double]]?
        init(_ s: Sample) {
            id = s.id
            hasLabels = s.labels != nil
            pseudoClasses = s.pseudoLabels == nil ? [] : s.pseudoClasses
            tasks = s.tasks
            landmarks = s.landmarks
        }
    }

    /// A batch of collated pixels ([B, C, spatial…] images, [B, spatial…] maps) and its samples' metadata.
    init(epoch: Int, index: Int, imageShape: [Int], images: [Float], labels: [UInt8]?, unaugmentedLabels: [UInt8]?,
         pseudoLabels: [UInt8]?, infos: [SampleInfo], landmarkNames: [String]) {
        self.epoch = epoch
        self.index = index
        self.imageShape = imageShape
        self.images = images
        self.labels = labels
        self.unaugmentedLabels = unaugmentedLabels
        self.pseudoLabels = pseudoLabels
        ids = infos.map(\.id)
        hasLabels = infos.map(\.hasLabels)
        pseudoClasses = infos.map(\.pseudoClasses)
        tasks = infos.map(\.tasks)
        landmarks = infos.map { $0.landmarks ?? [:] }
        self.landmarkNames = landmarkNames
        let spatial = Array(imageShape.dropFirst(2))
        let rank = spatial.count, k = landmarkNames.count
        var coordinates = [Double](repeating: 0, count: infos.count * k * rank)
        var mask = [Bool](repeating: false, count: infos.count * k)
        for (b, s) in infos.enumerated() {
            for (j, name) in landmarkNames.enumerated() {
                // A landmark outside the patch (cropped away) is left out, so landmark terms skip it.
                guard let p = s.landmarks?[name], s.tasks.landmarks.contains(name), p.count == rank,
                      zip(p, spatial).allSatisfy({ $0 >= -0.5 && $0 <= Double($1) - 0.5 }) else { continue }
                mask[b * k + j] = true
                for a in 0..<rank { coordinates[(b * k + j) * rank + a] = p[a] }
            }
        }
        landmarkCoordinates = coordinates
        landmarkMask = mask
    }
}

extension Batch {
    /// [B, spatial…] of per-sample label-like maps (validated to the image's shape), zeros for a
    /// sample without one; nil when no sample has one.
    static func collate(_ grids: [Grid<UInt8>?], voxels: Int) -> [UInt8]? {
        guard grids.contains(where: { $0 != nil }) else { return nil }
        return [UInt8](unsafeUninitializedCapacity: grids.count * voxels) { dst, initialised in
            for (b, g) in grids.enumerated() {
                let slot = dst.baseAddress! + b * voxels
                if let g {
                    g.storage.withUnsafeBufferPointer { slot.initialize(from: $0.baseAddress!, count: voxels) }
                } else {
                    slot.initialize(repeating: 0, count: voxels)
                }
            }
            initialised = grids.count * voxels
        }
    }
}
