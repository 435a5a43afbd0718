import Torch

/// The CE + Dice of the SCNP experiments and TopoMortar (`tmcedice`, METHODS §1.3), the loss
/// the official SCNP(CEDice) applies to SCNP logits:
///
///     CE   = Σ_c mean_{b,x} −y·log(p + 1e-15)              (softmax; BCE for one sigmoid channel)
///     Dice = −mean_{b,c} (2Σpy + 1e-5) / max(Σy + Σp + 1e-5, 1e-8)
///     L    = CE + Dice
///
/// The Dice term is negative, per sample and includes the background (§1.6 quirk 1), so L can
/// be negative. It has no options.
public struct OfficialCEDiceLoss: Objective {
    public let name: String
    static let logEpsilon = 1e-15, smooth = 1e-5

    public init(options o: ObjectiveOptions) throws {
        name = o.objective
    }

    public func callAsFunction(logits: Tensor, target: LossTarget) throws -> Tensor {
        let y = try target.denseTarget(for: logits)
        let p: Tensor
        let ce: Tensor
        if logits.shape[1] == 1 {
            p = try logits.sigmoid()
            // Throwing products where prediction meets target: their shapes come from the user.
            ce = try (-(y.multiplying((p + Self.logEpsilon).log()) + (1.0 - y).multiplying((1.0 - p + Self.logEpsilon).log()))).mean()
        } else {
            p = try logits.softmax(dim: 1)
            // Σ_c mean_{b,x}: the mean over b and space of the class sum.
            ce = try (-y.multiplying((p + Self.logEpsilon).log())).sum(dims: [1]).mean()
        }
        let axes = logits.spatialAxes
        let numerator = try 2 * p.multiplying(y).sum(dims: axes) + Self.smooth
        let denominator = try (y.sum(dims: axes) + p.sum(dims: axes) + Self.smooth).clamp(min: 1e-8)
        return try ce - (numerator / denominator).mean()
    }
}
