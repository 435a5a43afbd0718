/// Augmentation pipelines selected by name from configuration.
///
/// - `nnunet-default`: nnU-Net v2's training transforms — rotation (p 0.2; ±180° in 2D, ±30° per
///   axis in 3D) and scaling (p 0.2, 0.7–1.4) in one resampling, Gaussian noise (p 0.1, σ² ≤ 0.1),
///   blur (p 0.2, σ 0.5–1, half the channels), brightness (p 0.15, ×0.75–1.25), contrast (p 0.15),
///   low resolution (p 0.25, zoom 0.5–1), inverted gamma (p 0.1) and gamma (p 0.3) in 0.7–1.5,
///   mirroring of every axis (p 0.5). nnU-Net resamples images with cubic splines; this preset
///   uses linear interpolation for CPU throughput (`SpatialTransform.interpolation` changes it).
/// - `condseg-strong`: ConDSeg's stage-1 strong augmentation — colour jitter (brightness,
///   contrast, saturation 0.3, hue 0.1, random order), random grayscale (p 0.5) and Gaussian
///   blur (σ 0.1–3) — plus mirroring. Corrected defaults: drawn per sample, isotropic blur.
///   With `parity` (`data.parity: true`), as the official code's torchvision transforms on a
///   batch tensor: the jitter order and factors, the grayscale decision and the blur σ are drawn
///   once per batch, and the blur is torchvision's 7-tap kernel (1, 7), vertical only, reflect
///   padding; mirroring stays per sample. Expects images in [0, 1].
/// - `condseg-stage1`: ConDSeg's stage-1 geometric augmentation (train_stage1.py) — rotation
///   ±90° (p 0.5), horizontal and vertical flips (p 0.5 each), CoarseDropout (p 0.3, 10 holes
///   of 32², image only, filled with 0). The strong augmentation of its CR step is the
///   `consistency` training step's, not a preset.
/// - `condseg`: the stage-2 version (train.py) — rotation ±35° (p 0.3), flips p 0.3, the same
///   CoarseDropout. albumentations rotates with a reflect-101 border; here the border reads 0.
/// - `none`: crop/pad only.
public enum AugmentationPreset: String, Sendable, CaseIterable {
    case nnunetDefault = "nnunet-default"
    case condsegStrong = "condseg-strong"
    case condsegStage1 = "condseg-stage1"
    case condseg
    case none

    public static var names: [String] { allCases.map(\.rawValue) }

    public init(name: String) throws {
        guard let preset = AugmentationPreset(rawValue: name.lowercased()) else {
            throw ImagingError("unknown augmentation preset \"\(name)\"; valid: \(AugmentationPreset.names.joined(separator: ", "))")
        }
        self = preset
    }

    /// The pipeline for images of `rank` (2 or 3) spatial dimensions; `parity` reproduces the
    /// official code's quirks where a preset has them (`condseg-strong`).
    public func augmentation(rank: Int, parity: Bool = false) -> Augmentation {
        switch self {
        case .none:
            return .none
        case .nnunetDefault:
            return Augmentation(
                spatial: SpatialTransform(
                    mirrorProbability: 0.5,
                    rotationProbability: 0.2, rotationDegrees: rank == 2 ? -180...180 : -30...30,
                    scaleProbability: 0.2, scale: 0.7...1.4, interpolation: .linear),
                intensity: [
                    .gaussianNoise(probability: 0.1, variance: 0...0.1),
                    .gaussianBlur(probability: 0.2, sigma: 0.5...1, perChannelProbability: 0.5),
                    .brightness(probability: 0.15, range: 0.75...1.25),
                    .contrast(probability: 0.15, range: 0.75...1.25, preserveRange: true),
                    .lowResolution(probability: 0.25, zoom: 0.5...1, perChannelProbability: 0.5),
                    .gamma(probability: 0.1, range: 0.7...1.5, invert: true, retainStats: true),
                    .gamma(probability: 0.3, range: 0.7...1.5, invert: false, retainStats: true),
                ])
        case .condsegStage1, .condseg:
            let stage1 = self == .condsegStage1
            return Augmentation(
                spatial: SpatialTransform(mirrorProbability: stage1 ? 0.5 : 0.3, rotationProbability: stage1 ? 0.5 : 0.3,
                                          rotationDegrees: stage1 ? -90...90 : -35...35, interpolation: .linear),
                intensity: [.coarseDropout(probability: 0.3, holes: 10, size: 32, fill: 0)])
        case .condsegStrong where parity:
            // The blur's kernel (1, 7) is (width, height): 7 taps along H (axis rank − 2).
            var taps = [Int](repeating: 1, count: rank)
            taps[rank - 2] = 7
            return Augmentation(
                spatial: SpatialTransform(mirrorProbability: 0.5),
                intensity: [.kernelBlur(probability: 1, sigma: 0.1...3, size: taps)],
                color: ColorJitter(probability: 1, brightness: 0.3, contrast: 0.3, saturation: 0.3, hue: 0.1,
                                   grayscaleProbability: 0.5),
                perBatch: true)
        case .condsegStrong:
            return Augmentation(
                spatial: SpatialTransform(mirrorProbability: 0.5),
                intensity: [.gaussianBlur(probability: 1, sigma: 0.1...3, perChannelProbability: 1)],
                color: ColorJitter(probability: 1, brightness: 0.3, contrast: 0.3, saturation: 0.3, hue: 0.1,
                                   grayscaleProbability: 0.5))
        }
    }
}
