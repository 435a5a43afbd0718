import Torch

/// Tversky loss, MONAI `TverskyLoss` (METHODS §6): per (b, c),
/// 1 − (TP + smoothNr) / (TP + α·FP + β·FN + smoothDr), TP = Σpg, FP = Σp(1−g), FN = Σ(1−p)g.
///
/// Options: `alpha`, `beta` (0.5 each, ≥ 0: equal to Dice; the usual paper setting is 0.3 / 0.7),
/// `includeBackground`, `softmax` / `sigmoid`, `toOneHot`, `batch`, `smoothNr`, `smoothDr`
/// (1e-5), `reduction` (mean; none gives (B, C) as MONAI).
public struct TverskyLoss: Objective {
    public let name: String
    var settings: OverlapSettings
    public var alpha: Double
    public var beta: Double

    public init(options o: ObjectiveOptions) throws {
        name = o.objective
        settings = try OverlapSettings(o)
        alpha = try o.double("alpha", default: 0.5, requirement: "a number ≥ 0", valid: { $0 >= 0 })
        beta = try o.double("beta", default: 0.5, requirement: "a number ≥ 0", valid: { $0 >= 0 })
    }

    public func callAsFunction(logits: Tensor, target: LossTarget) throws -> Tensor {
        let (p, g) = try settings.inputs(logits, target)
        let axes = settings.axes(p)
        // Prediction meets target here (shapes from the user): throw, don't trap.
        let tp = try p.multiplying(g).sum(dims: axes)
        let fp = try p.multiplying(1.0 - g).sum(dims: axes)
        let fn = try (1.0 - p).multiplying(g).sum(dims: axes)
        let score = 1.0 - (tp + settings.smoothNr) / (tp + alpha * fp + beta * fn + settings.smoothDr)
        switch settings.reduction {
        case .mean: return try score.mean()
        case .sum: return try score.sum()
        case .none: return score
        }
    }
}
