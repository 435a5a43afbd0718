import Geometry

/// A full augmentation pipeline: crop/pad + spatial (one resampling, then exact mirrors/rot90),
/// then colour jitter, then the intensity transforms in order (ConDSeg's jitter → grayscale →
/// blur order). Deterministic for a generator state.
public struct Augmentation: Sendable {
    public var spatial: SpatialTransform
    public var intensity: [IntensityTransform]
    public var color: ColorJitter?

    public init(spatial: SpatialTransform = .identity, intensity: [IntensityTransform] = [], color: ColorJitter? = nil) {
        self.spatial = spatial
        self.intensity = intensity
        self.color = color
    }

    /// Crop only.
    public static let none = Augmentation()

    public func apply(_ sample: Sample, crop: CropPad?, using rng: inout SeededGenerator) throws -> Sample {
        var s = try spatial.apply(sample, crop: crop, using: &rng)
        color?.apply(to: &s, using: &rng)
        for t in intensity { t.apply(to: &s, using: &rng) }
        return s
    }
}
