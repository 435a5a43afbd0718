import Torch

/// MONAI `DiceCELoss`: lambdaDice · Dice + lambdaCe · CE (BCE for one channel).
///
/// Options: every `dice` option, `weight` (used by both terms, as MONAI: the Dice term drops
/// the background weight when `includeBackground` is false), `labelSmoothing`, `lambdaDice`,
/// `lambdaCe` (1, ≥ 0), `reduction` (mean or sum).
public struct DiceCELoss: Objective {
    public let name: String
    public var dice: DiceLoss
    public var crossEntropy: CrossEntropyLoss
    public var lambdaDice: Double
    public var lambdaCe: Double

    public init(options o: ObjectiveOptions) throws {
        name = o.objective
        dice = try DiceLoss(options: o)
        crossEntropy = try CrossEntropyLoss(options: o)
        guard crossEntropy.ignoreIndex == nil else {
            throw ObjectiveError("option 'ignoreIndex' is not supported by '\(name)' (its Dice term has no ignore mask); use 'ce'")
        }
        guard dice.settings.reduction != .none else {
            throw ObjectiveError("option 'reduction' of '\(name)' must be mean or sum (Dice and CE reduce differently)")
        }
        if let w = dice.classWeights, !dice.settings.includeBackground, w.count > 1 { dice.classWeights = Array(w.dropFirst()) }
        let nonNegative: (Double) -> Bool = { $0 >= 0 }
        lambdaDice = try o.double("lambdaDice", default: 1, requirement: "a number ≥ 0", valid: nonNegative)
        lambdaCe = try o.double("lambdaCe", default: 1, requirement: "a number ≥ 0", valid: nonNegative)
    }

    public func callAsFunction(logits: Tensor, target: LossTarget) throws -> Tensor {
        lambdaDice * (try dice(logits: logits, target: target)) + lambdaCe * (try crossEntropy(logits: logits, target: target))
    }
}
