import Geometry

/// Random crop (or zero pad) to a patch size, with nnU-Net's foreground oversampling: with
/// probability `foregroundProbability` (nnU-Net: 33 %) the patch is centred on a random voxel
/// of a random foreground class the case carries; otherwise its origin is uniform over all
/// positions nnU-Net allows (images smaller than the patch are padded symmetrically).
///
/// `DataLoader` applies nnU-Net's per-batch rule (the last round(B · p) samples of each batch
/// force foreground) by giving each sample a crop of probability 1 or 0 from its batch slot.
public struct CropPad: Sendable, Equatable {
    public var patchSize: [Int]
    public var foregroundProbability: Double

    public init(patchSize: [Int], foregroundProbability: Double = 0.33) {
        self.patchSize = patchSize
        self.foregroundProbability = foregroundProbability
    }

    /// The patch's lower corner in the sample's voxel grid (may be negative: padding).
    public func origin(for sample: Sample, using rng: inout SeededGenerator) throws -> [Int] {
        let shape = sample.shape
        guard patchSize.count == shape.count else {
            throw ImagingError("case \(sample.id): patch size \(patchSize) does not match the image's rank (shape \(shape))")
        }
        let wantForeground = Double.random(in: 0..<1, using: &rng) < foregroundProbability
        let (lower, upper) = Self.bounds(shape: shape, patchSize: patchSize)
        if wantForeground, let voxel = randomForegroundVoxel(sample, using: &rng) {
            return (0..<shape.count).map { a in Swift.min(upper[a], Swift.max(lower[a], voxel[a] - patchSize[a] / 2)) }
        }
        return (0..<shape.count).map { a in Int.random(in: lower[a]...upper[a], using: &rng) }
    }

    /// nnU-Net's range of patch origins per axis: inside the image, or padded symmetrically (the
    /// odd voxel after) where the image is smaller than the patch.
    public static func bounds(shape: [Int], patchSize: [Int]) -> (lower: [Int], upper: [Int]) {
        var lower = [Int](), upper = [Int]()
        for a in 0..<shape.count {
            let need = Swift.max(0, patchSize[a] - shape[a])
            lower.append(-(need / 2))
            upper.append(shape[a] + need / 2 + need % 2 - patchSize[a])
        }
        return (lower, upper)
    }

    /// A uniformly chosen voxel of a uniformly chosen foreground class that the case carries.
    func randomForegroundVoxel(_ sample: Sample, using rng: inout SeededGenerator) -> [Int]? {
        guard let labels = sample.labels else { return nil }
        var counts = [Int](repeating: 0, count: 256)
        labels.storage.withUnsafeBufferPointer { p in for v in p { counts[Int(v)] &+= 1 } }
        let classes = (1..<256).filter { counts[$0] > 0 && (sample.tasks.labels.isEmpty || sample.tasks.labels.contains($0)) }
        guard !classes.isEmpty else { return nil }
        let cls = UInt8(classes[Int.random(in: 0..<classes.count, using: &rng)])
        var k = Int.random(in: 0..<counts[Int(cls)], using: &rng)
        let flat: Int = labels.storage.withUnsafeBufferPointer { p in
            for i in p.indices where p[i] == cls {
                if k == 0 { return i }
                k -= 1
            }
            return 0
        }
        let strides = labels.strides
        return strides.map { (flat / $0) } .enumerated().map { $0.element % labels.shape[$0.offset] }
    }

    /// Draws an origin and crops.
    public func apply(_ sample: Sample, using rng: inout SeededGenerator) throws -> Sample {
        try Self.crop(sample, origin: try origin(for: sample, using: &rng), size: patchSize)
    }

    /// Exact crop of `size` voxels from `origin` (zero outside the image); landmarks shift by −origin.
    public static func crop(_ sample: Sample, origin: [Int], size: [Int]) throws -> Sample {
        try crop(sample, origin: origin, size: size, flips: nil)
    }

    /// As `crop(_:origin:size:)`, then mirrored along the axes where `flips` is set (one pass:
    /// `SpatialTransform.flip` of the crop, landmarks included).
    static func crop(_ sample: Sample, origin: [Int], size: [Int], flips: [Bool]?) throws -> Sample {
        try sample.validate()
        guard origin.count == sample.rank, size.count == sample.rank, (flips?.count ?? size.count) == size.count else {
            throw ImagingError("case \(sample.id): crop origin \(origin) / size \(size) do not match rank \(sample.rank)")
        }
        let flips = flips?.contains(true) == true ? flips : nil
        if flips == nil && size == sample.shape && origin.allSatisfy({ $0 == 0 }) { return sample }
        var out = sample
        out.image = sample.image.map { cropGrid($0, origin: origin, size: size, fill: 0, flips: flips) }
        out.labels = sample.labels.map { cropGrid($0, origin: origin, size: size, fill: 0, flips: flips) }
        out.pseudoLabels = sample.pseudoLabels.map { cropGrid($0, origin: origin, size: size, fill: 0, flips: flips) }
        out.landmarks = sample.landmarks?.mapValues { p in
            SpatialTransform.mirrored(zip(p, origin).map { $0 - Double($1) }, flips: flips, shape: size)
        }
        return out
    }

    /// The box `origin ..< origin + size` of `g` (`fill` outside), mirrored along the axes where `flips` is set.
    static func cropGrid<T>(_ g: Grid<T>, origin: [Int], size: [Int], fill: T, flips: [Bool]? = nil) -> Grid<T> {
        let storage = g.storage.withUnsafeBufferPointer { src in
            src.baseAddress.map { BoxCopy.copy(from: $0, shape: g.shape, origin: origin, size: size, flips: flips, fill: fill) }
                ?? [T](repeating: fill, count: size.reduce(1, *))
        }
        return try! Grid(shape: size, spacing: g.spacing, storage: storage)
    }
}
