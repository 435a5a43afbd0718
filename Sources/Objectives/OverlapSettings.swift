import Torch

/// The options MONAI's Dice and Tversky losses share, read once for both.
struct OverlapSettings {
    var activation: Activation?
    var includeBackground: Bool
    var batch: Bool
    var reduction: Reduction
    var smoothNr: Double
    var smoothDr: Double

    init(_ o: ObjectiveOptions) throws {
        activation = try Activation.parse(o)
        includeBackground = try o.bool("includeBackground", default: true)
        // Targets become one-hot as needed (a LossTarget knows whether it holds labels);
        // `toOneHot` is accepted so that MONAI configurations read unchanged.
        _ = try o.optionalBool("toOneHot")
        batch = try o.bool("batch", default: false)
        reduction = try o.reduction()
        let nonNegative: (Double) -> Bool = { $0 >= 0 }
        smoothNr = try o.double("smoothNr", default: 1e-5, requirement: "a number ≥ 0", valid: nonNegative)
        smoothDr = try o.double("smoothDr", default: 1e-5, requirement: "a number ≥ 0", valid: nonNegative)
    }

    /// Probabilities and dense target, background dropped when asked (and C > 1, as MONAI).
    func inputs(_ logits: Tensor, _ target: LossTarget) throws -> (p: Tensor, g: Tensor) {
        var p = try Activation.resolved(activation, channels: logits.shape[1]).apply(logits)
        var g = try target.denseTarget(for: logits)
        if !includeBackground && logits.shape[1] > 1 {
            p = try p.droppingFirstChannel()
            g = try g.droppingFirstChannel()
        }
        return (p, g)
    }

    /// Axes summed per score: spatial, plus the batch with `batch`.
    func axes(_ p: Tensor) -> [Int] { (batch ? [0] : []) + p.spatialAxes }
}
