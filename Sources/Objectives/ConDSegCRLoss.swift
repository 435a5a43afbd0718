import NeuralNet
import Torch

/// ConDSeg's stage-1 Consistency Reinforcement loss (METHODS §4.6), on the mask of a batch (M)
/// and of its strong augmentation (M′, head `strong.segmentation`, which the `consistency`
/// training step provides):
///
///     L = DiceBCE(M, y) + DiceBCE(M′, y) + BCE(M, 1[M′ > 0.5]) + BCE(M′, 1[M > 0.5])
///
/// The binarised targets carry no gradient; the consistency BCE reads the probabilities once
/// (σ of the logits) while DiceBCE keeps the published double sigmoid unless `parity: false`
/// or `doubleSigmoid: false`. `consistencyWeight` scales the last two terms (1 as published).
public struct ConDSegCRLoss: Objective {
    public let name: String
    public let head: String
    public let doubleSigmoid: Bool
    public let consistencyWeight: Double
    public let probabilityInputs: Bool

    public init(options o: ObjectiveOptions) throws {
        name = o.objective
        head = try o.string("head", default: Heads.segmentation)
        let parity = try o.bool("parity", default: true)
        doubleSigmoid = try o.optionalBool("doubleSigmoid") ?? parity
        consistencyWeight = try o.double("consistencyWeight", default: 1, requirement: "a number ≥ 0", valid: { $0 >= 0 })
        probabilityInputs = try o.string("inputs", default: "logits", allowed: ["logits", "probabilities"]) == "probabilities"
    }

    public var heads: [String] { [head] }

    public func callAsFunction(logits: Tensor, target: LossTarget) throws -> Tensor {
        throw ObjectiveError("'\(name)' compares a batch's mask with its strong augmentation's; use it with step: consistency")
    }

    public func loss(heads h: Heads, targets: Targets) throws -> Tensor {
        let user = "objective '\(name)'"
        let strongName = ConsistencyPair.strongHead(head)
        guard h[strongName] != nil else {
            throw ObjectiveError("\(user) needs the strong-augmentation forward (head '\(strongName)'); train it with step: consistency")
        }
        let m = try binaryHead(h, head, user: user), m2 = try binaryHead(h, strongName, user: user)
        guard let t = try BinaryTargets(targets, like: m, user: user) else { return try m.sum() * 0 + m2.sum() * 0 }
        return try value(try t.select(m), try t.select(m2), y: t.mask)
    }

    /// The loss of the two forwards' values against y.
    public func value(_ z: Tensor, _ zStrong: Tensor, y: Tensor) throws -> Tensor {
        let p = probabilityInputs ? z : try z.sigmoid(), q = probabilityInputs ? zStrong : try zStrong.sigmoid()
        let supervised = try DiceBCELoss.value(p, y, doubleSigmoid: doubleSigmoid)
            .adding(try DiceBCELoss.value(q, y, doubleSigmoid: doubleSigmoid))
        let binP = try p.detached().gt(0.5).to(p.dtype), binQ = try q.detached().gt(0.5).to(q.dtype)
        let consistency = try DiceBCELoss.binaryCrossEntropy(p, binQ).adding(try DiceBCELoss.binaryCrossEntropy(q, binP))
        return try supervised.adding(consistency * consistencyWeight)
    }
}
