import Torch

/// clDice combined with soft Dice as in its paper's code (Shit et al.; METHODS §6):
///
///     Tprec = (Σ skel(p)·g + s)/(Σ skel(p) + s),  Tsens = (Σ skel(g)·p + s)/(Σ skel(g) + s)
///     clDice = 1 − 2·Tprec·Tsens/(Tprec + Tsens)
///     Dice   = 1 − (2Σpg + s)/(Σg + Σp + s)
///     L      = (1 − α)·Dice + α·clDice
///
/// Sums run over the batch, space and the foreground channels 1… (the single channel of a
/// sigmoid output). Options: `alpha` (0.5, in [0, 1]; 1 gives pure clDice, MONAI's
/// `SoftclDiceLoss`), `iterations` (3, ≥ 0), `smooth` (1, > 0), `softmax` / `sigmoid`.
public struct ClDiceLoss: Objective {
    public let name: String
    public var alpha: Double
    public var iterations: Int
    public var smooth: Double
    var activation: Activation?

    public init(options o: ObjectiveOptions) throws {
        name = o.objective
        alpha = try o.double("alpha", default: 0.5, requirement: "a number in [0, 1]", valid: { (0...1).contains($0) })
        iterations = try o.int("iterations", default: 3, requirement: "an integer ≥ 0", valid: { $0 >= 0 })
        smooth = try o.double("smooth", default: 1, requirement: "a number > 0", valid: { $0 > 0 })
        activation = try Activation.parse(o)
    }

    public func callAsFunction(logits: Tensor, target: LossTarget) throws -> Tensor {
        var p = try Activation.resolved(activation, channels: logits.shape[1]).apply(logits)
        var g = try target.denseTarget(for: logits)
        if logits.shape[1] > 1 {
            p = try p.droppingFirstChannel()
            g = try g.droppingFirstChannel()
        }
        let skelP = try SoftSkeleton.skeleton(p, iterations: iterations)
        let skelG = try withoutGradients { try SoftSkeleton.skeleton(g, iterations: iterations) }
        // Throwing products where prediction meets target: their shapes come from the user.
        let tprec = try (skelP.multiplying(g).sum() + smooth) / (skelP.sum() + smooth)
        let tsens = try (skelG.multiplying(p).sum() + smooth) / (skelG.sum() + smooth)
        let clDice = 1.0 - 2.0 * tprec * tsens / (tprec + tsens)
        if alpha == 1 { return clDice }
        let dice = 1.0 - (try 2.0 * p.multiplying(g).sum() + smooth) / (try g.sum() + p.sum() + smooth)
        return (1 - alpha) * dice + alpha * clDice
    }
}
