import NeuralNet
import Torch

/// ConDSeg's DiceBCE on a binary head (one channel, or two classes as z₁ − z₀) (METHODS §4.6):
/// `BCE(S, T) + 1 − (2ΣS·T + 1)/(ΣS + ΣT + 1)`, sums over the whole flattened batch, BCE with
/// PyTorch's log clamp at −100.
///
/// Heads carry logits, so the model's probability is p = σ(z). The official model already
/// outputs p and the loss applies σ again (METHODS §4.9.1): with `parity` (the default, as
/// published) S = σ(p); `doubleSigmoid: false` (or `parity: false`) uses S = p. `inputs:
/// probabilities` is for a head that already holds p.
public struct DiceBCELoss: Objective {
    public let name: String
    public let head: String
    public let doubleSigmoid: Bool
    public let probabilityInputs: Bool
    public let smooth: Double

    public init(options o: ObjectiveOptions) throws {
        name = o.objective
        head = try o.string("head", default: Heads.segmentation)
        let parity = try o.bool("parity", default: true)
        doubleSigmoid = try o.optionalBool("doubleSigmoid") ?? parity
        probabilityInputs = try o.string("inputs", default: "logits", allowed: ["logits", "probabilities"]) == "probabilities"
        smooth = try o.double("smooth", default: 1, requirement: "a number ≥ 0", valid: { $0 >= 0 })
    }

    public var heads: [String] { [head] }

    /// The model's probability of a head's values.
    func probability(_ x: Tensor) throws -> Tensor { probabilityInputs ? x : try x.sigmoid() }

    public func callAsFunction(logits: Tensor, target: LossTarget) throws -> Tensor {
        let z = try binaryLogit(logits, head: head, user: "'\(name)'")
        let t = try target.labelMap(for: logits).gt(0).to(z.device, dtype: z.dtype)
        return try Self.value(try probability(z), t, doubleSigmoid: doubleSigmoid, smooth: smooth)
    }

    /// DiceBCE of probabilities `p` against a float target `t` of the same shape.
    public static func value(_ p: Tensor, _ t: Tensor, doubleSigmoid: Bool, smooth: Double = 1) throws -> Tensor {
        let s = doubleSigmoid ? try p.sigmoid() : p
        let intersection = try s.multiplying(t).sum()
        let dice = 1 - (intersection * 2 + smooth) / (try s.sum().adding(try t.sum()) + smooth)
        return try binaryCrossEntropy(s, t).adding(dice)
    }

    /// PyTorch's `F.binary_cross_entropy(p, t)` (mean), logs clamped at −100.
    public static func binaryCrossEntropy(_ p: Tensor, _ t: Tensor) throws -> Tensor {
        let logP = try p.log().clamp(min: -100), log1mP = try (1 - p).log().clamp(min: -100)
        return try (t * logP + (1 - t) * log1mP).mean().neg()
    }
}
