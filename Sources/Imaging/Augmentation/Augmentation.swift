import Geometry

/// A full augmentation pipeline: crop/pad + spatial (one resampling, then exact mirrors/rot90),
/// then colour jitter, then the intensity transforms in order (ConDSeg's jitter → grayscale →
/// blur order). Deterministic for a generator state.
public struct Augmentation: Sendable {
    public var spatial: SpatialTransform
    public var intensity: [IntensityTransform]
    public var color: ColorJitter?
    /// The colour and intensity transforms draw their parameters once per batch (the loader's
    /// batch generator, the same for every sample of a batch), as ConDSeg's strong augmentation
    /// on a batch tensor does; the spatial transform still draws per sample.
    public var perBatch: Bool

    public init(spatial: SpatialTransform = .identity, intensity: [IntensityTransform] = [], color: ColorJitter? = nil, perBatch: Bool = false) {
        self.spatial = spatial
        self.intensity = intensity
        self.color = color
        self.perBatch = perBatch
    }

    /// Crop only.
    public static let none = Augmentation()

    public func apply(_ sample: Sample, crop: CropPad?, using rng: inout SeededGenerator) throws -> Sample {
        var s = try spatial.apply(sample, crop: crop, using: &rng)
        finish(&s, using: &rng)
        return s
    }

    /// As `apply(_:crop:using:)`, the colour and intensity draws taken from `batch` when `perBatch`.
    public func apply(_ sample: Sample, crop: CropPad?, using rng: inout SeededGenerator, batch: inout SeededGenerator) throws -> Sample {
        guard perBatch else { return try apply(sample, crop: crop, using: &rng) }
        var s = try spatial.apply(sample, crop: crop, using: &rng)
        finish(&s, using: &batch)
        return s
    }

    /// The patch `origin ..< origin + size` of `source` augmented (a memory-mapped case is read
    /// only where the spatial transform samples); colour and intensity draws from `batch` when `perBatch`.
    public func apply(_ source: SampleSource, origin: [Int], size: [Int], using rng: inout SeededGenerator,
                      batch: inout SeededGenerator) throws -> Sample {
        var s = try spatial.apply(source, origin: origin, size: size, using: &rng)
        if perBatch { finish(&s, using: &batch) } else { finish(&s, using: &rng) }
        return s
    }

    func finish(_ s: inout Sample, using rng: inout SeededGenerator) {
        color?.apply(to: &s, using: &rng)
        for t in intensity { t.apply(to: &s, using: &rng) }
    }
}
