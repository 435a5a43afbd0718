import Torch

/// Focal loss, MONAI `FocalLoss` (METHODS §6): FL = −α_t (1 − p_t)^γ log p_t per element.
///
/// The sigmoid form (each channel a binary problem) is MONAI's default; `useSoftmax` gives
/// the softmax form, where a scalar α weighs the foreground classes and 1 − α class 0.
/// Options: `gamma` (2, ≥ 0), `alpha` (none; a number in [0, 1] or one per channel),
/// `includeBackground` (true; dropped before the softmax, as MONAI), `toOneHot`, `useSoftmax`
/// (false), `weight` (class weights ≥ 0), `reduction` (mean over all elements; sum sums the
/// per-(b, c) spatial means, as MONAI; none keeps (B, C, spatial…)).
public struct FocalLoss: Objective {
    public let name: String
    public var gamma: Double
    public var alpha: [Double]?
    public var includeBackground: Bool
    public var useSoftmax: Bool
    public var classWeights: [Double]?
    public var reduction: Reduction

    public init(options o: ObjectiveOptions) throws {
        name = o.objective
        gamma = try o.double("gamma", default: 2, requirement: "a number ≥ 0", valid: { $0 >= 0 })
        alpha = try o.doubles("alpha", requirement: "a number in [0, 1] or a list of them", valid: { (0...1).contains($0) })
        includeBackground = try o.bool("includeBackground", default: true)
        _ = try o.optionalBool("toOneHot")
        useSoftmax = try o.bool("useSoftmax", default: false)
        classWeights = try o.doubles("weight", requirement: "a number or list of numbers ≥ 0", valid: { $0 >= 0 })
        reduction = try o.reduction()
    }

    public func callAsFunction(logits: Tensor, target: LossTarget) throws -> Tensor {
        var x = logits
        var g = try target.denseTarget(for: logits)
        if !includeBackground && logits.shape[1] > 1 {
            x = try x.droppingFirstChannel()
            g = try g.droppingFirstChannel()
        }
        let c = x.shape[1]
        let channelShape = [c] + Array(repeating: 1, count: x.rank - 2)
        var loss: Tensor
        if useSoftmax {
            let ls = try x.logSoftmax(dim: 1)
            loss = try (-((1.0 - ls.exp()).pow(gamma)) * ls).multiplying(g)
            var a = alpha
            // MONAI drops a scalar α when the background is excluded.
            if let s = a, s.count == 1, !includeBackground { a = nil }
            if let a {
                let fac = a.count == 1 ? [1 - a[0]] + Array(repeating: a[0], count: c - 1) : a
                guard fac.count == c else { throw countError("alpha", a.count, c) }
                loss = loss * (try Tensor(fac, shape: channelShape).to(x.device, dtype: x.dtype))
            }
        } else {
            // BCE on logits, scaled by (1 − p_t)^γ computed as exp(γ · logsigmoid(−x(2g − 1))).
            let bce = try x - x.multiplying(g) - x.logSigmoid()  // throwing where logits meet the target
            let invprobs = try (-x).multiplying(2 * g - 1.0).logSigmoid()
            loss = try (invprobs * gamma).exp() * bce
            if let a = alpha {
                if a.count == 1 {
                    loss = (g * a[0] + (1.0 - g) * (1 - a[0])) * loss
                } else {
                    guard a.count == c else { throw countError("alpha", a.count, c) }
                    let at = try Tensor(a, shape: channelShape).to(x.device, dtype: x.dtype)
                    loss = try Tensor.where(g.eq(1), at.expand(as: g), Tensor.ones(like: g)) * loss
                }
            }
        }
        if let cw = classWeights {
            if cw.count == 1 {
                loss = loss * cw[0]
            } else {
                guard c > 1 else { throw ObjectiveError("option 'weight' of '\(name)': per-class weights need C > 1 channels") }
                guard cw.count == c else { throw countError("weight", cw.count, c) }
                loss = loss * (try Tensor(cw, shape: channelShape).to(x.device, dtype: x.dtype))
            }
        }
        switch reduction {
        case .mean: return try loss.mean()
        case .sum: return try loss.mean(dims: loss.spatialAxes).sum()
        case .none: return loss
        }
    }

    private func countError(_ option: String, _ got: Int, _ c: Int) -> ObjectiveError {
        ObjectiveError("option '\(option)' of '\(name)' needs one value per channel used (\(c)), got \(got)")
    }
}
