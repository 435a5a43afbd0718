import Imaging
import NeuralNet
import Objectives
import Torch

/// ConDSeg's stage-1 Consistency Reinforcement step (METHODS §4.6): one forward on the batch,
/// one on its strong augmentation, and the objectives scored on both — the second forward's
/// heads reach them as `strong.<name>` (`ConsistencyPair`), which `condseg-cr` reads.
///
/// Options: `brightness`, `contrast`, `saturation` (0.3), `hue` (0.1), `grayscale` (0.5),
/// `sigma` ([0.1, 3]), `blurSize` (7), and `parity` (true: one draw per batch and a vertical
/// 7×1 blur, as published; false: a draw per image and an isotropic blur), or `perSample` /
/// `isotropicBlur` on their own. Images must be in [0, 1] (`data.normalization: rgb`).
public final class ConsistencyStep: TrainingStep {
    public let augmentation: StrongAugmentation
    private var rangeChecked = false

    public init(augmentation: StrongAugmentation = StrongAugmentation()) {
        self.augmentation = augmentation
    }

    public convenience init(options o: Options) throws {
        var a = StrongAugmentation()
        func factor(_ key: String, _ d: Double) throws -> Double {
            try o.double(key, default: d, requirement: "a number ≥ 0", valid: { $0 >= 0 })
        }
        a.brightness = try factor("brightness", a.brightness)
        a.contrast = try factor("contrast", a.contrast)
        a.saturation = try factor("saturation", a.saturation)
        a.hue = try o.double("hue", default: a.hue, requirement: "a number in [0, 0.5]", valid: { (0...0.5).contains($0) })
        a.grayscaleProbability = try o.double("grayscale", default: a.grayscaleProbability, requirement: "a probability in [0, 1]",
                                              valid: { (0...1).contains($0) })
        let sigma = try o.doubles("sigma", requirement: "two numbers 0 < low ≤ high") ?? [a.sigma.lowerBound, a.sigma.upperBound]
        guard sigma.count == 2, sigma[0] > 0, sigma[0] <= sigma[1] else {
            throw TrainingError("step consistency: option 'sigma' must be two numbers 0 < low ≤ high, got \(sigma)")
        }
        a.sigma = sigma[0]...sigma[1]
        a.blurSize = try o.int("blurSize", default: a.blurSize, requirement: "an odd integer ≥ 1", valid: { $0 >= 1 && $0 % 2 == 1 })
        let parity = try o.bool("parity", default: true)
        a.perSample = try o.optionalBool("perSample") ?? !parity
        a.isotropicBlur = try o.optionalBool("isotropicBlur") ?? !parity
        try o.finish()
        self.init(augmentation: a)
    }

    public var name: String { "consistency" }

    public func step(_ batch: Batch, context: StepContext) throws -> StepOutcome {
        let x = try context.inputs(batch)
        if !rangeChecked {
            // The jitter clamps to [0, 1]: z-scored images would be silently destroyed.
            let lo = try x.min().item(), hi = try x.max().item()
            guard lo >= -1e-3, hi <= 1 + 1e-3 else {
                throw TrainingError(String(format: "step consistency: the strong augmentation needs images in [0, 1], the batch spans [%.3g, %.3g]; "
                                           + "set data.normalization: rgb (8-bit images) or unit:MAX", lo, hi))
            }
            rangeChecked = true
        }
        let heads = try context.forward(x)
        let strong = try context.forward(try withoutGradients { try augmentation(x) })
        return try context.apply(try context.losses(ConsistencyPair.merge(heads, strong), try context.targets(batch)))
    }
}
