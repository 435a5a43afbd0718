import Torch

/// Skeleton Recall (Kirchhoff et al., ECCV 2024; METHODS §6) combined with CE:
///
///     L_SR = −mean_c (Σ p_c·S_c + 1e-5) / max(Σ S_c + 1e-5, 1e-8)   over foreground classes
///     L    = CE + recallWeight · L_SR
///
/// S is the tubed skeleton of the ground truth (`SkeletonTube`), computed on the CPU with no
/// gradient and cached per case like other label maps. This is the TopoMortar form; the
/// nnU-Net form adds Dice, which a composite objective (`skelrecall` + `dice`) gives.
/// Options: `recallWeight` (1, ≥ 0), `batchDice` (false: sums per sample; true: over the batch),
/// and the `ce` options.
public struct SkeletonRecallLoss: Objective {
    public let name: String
    public var crossEntropy: CrossEntropyLoss
    public var recallWeight: Double
    public var batchDice: Bool

    public init(options o: ObjectiveOptions) throws {
        name = o.objective
        crossEntropy = try CrossEntropyLoss(meanReducedFor: o)
        recallWeight = try o.double("recallWeight", default: 1, requirement: "a number ≥ 0", valid: { $0 >= 0 })
        batchDice = try o.bool("batchDice", default: false)
    }

    public func callAsFunction(logits: Tensor, target: LossTarget) throws -> Tensor {
        let ce = try crossEntropy(logits: logits, target: target)
        return try ce + recallWeight * recall(logits: logits, target: target)
    }

    /// The −recall term alone.
    public func recall(logits: Tensor, target: LossTarget) throws -> Tensor {
        let c = logits.shape[1]
        let tube = try withoutGradients { try RegionMap.skeletonTube.tensor(for: target, logits: logits, classes: Swift.max(c, 2)) }
        let p: Tensor, s: Tensor
        if c == 1 {
            p = try logits.sigmoid()
            s = try tube.slice(dim: 1, start: 1)
        } else {
            p = try logits.softmax(dim: 1).droppingFirstChannel()
            s = try tube.droppingFirstChannel()
        }
        let axes = (batchDice ? [0] : []) + p.spatialAxes
        let rec = try (p.multiplying(s).sum(dims: axes) + 1e-5) / (s.sum(dims: axes) + 1e-5).clamp(min: 1e-8)
        return -(try rec.mean())
    }
}
