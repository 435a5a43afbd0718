import Torch

/// Soft Dice loss, MONAI `DiceLoss` (METHODS §6): per (b, c),
/// 1 − (2Σpg + smoothNr) / (Σp + Σg + smoothDr), then reduced over b and c.
///
/// Options: `includeBackground` (true), `softmax` / `sigmoid` (by channel count), `toOneHot`,
/// `squaredPred` (false: Σp², Σg² in the denominator), `jaccard` (false: soft IoU),
/// `batch` (false: sum over the batch before dividing), `smoothNr`, `smoothDr` (1e-5),
/// `weight` (class weights ≥ 0, one per channel used), `reduction` (mean; none keeps
/// (B, C, 1, …) as MONAI).
public struct DiceLoss: Objective {
    public let name: String
    var settings: OverlapSettings
    public var squaredPred: Bool
    public var jaccard: Bool
    public var classWeights: [Double]?

    public init(options o: ObjectiveOptions) throws {
        name = o.objective
        settings = try OverlapSettings(o)
        squaredPred = try o.bool("squaredPred", default: false)
        jaccard = try o.bool("jaccard", default: false)
        classWeights = try o.doubles("weight", requirement: "a number or list of numbers ≥ 0", valid: { $0 >= 0 })
    }

    public func callAsFunction(logits: Tensor, target: LossTarget) throws -> Tensor {
        let (p, g) = try settings.inputs(logits, target)
        return try reduce(score(p, g), like: p)
    }

    /// 1 − Dice (or Jaccard) per (b, c), or per c with `batch`.
    func score(_ p: Tensor, _ g: Tensor) throws -> Tensor {
        let axes = settings.axes(p)
        // Prediction meets target here (shapes from the user): throw, don't trap.
        let tp = try p.multiplying(g).sum(dims: axes)
        let sp = try (squaredPred ? p * p : p).sum(dims: axes)
        let sg = try (squaredPred ? g * g : g).sum(dims: axes)
        let denominator = jaccard ? 2 * (sp + sg - tp) : sp + sg
        var f = 1.0 - (2 * tp + settings.smoothNr) / (denominator + settings.smoothDr)
        if let w = try classWeightTensor(channels: p.shape[1], like: f), p.shape[1] != 1 {
            f = f * w
        }
        return f
    }

    private func classWeightTensor(channels: Int, like f: Tensor) throws -> Tensor? {
        guard let cw = classWeights else { return nil }
        let w = cw.count == 1 ? Array(repeating: cw[0], count: channels) : cw
        guard w.count == channels else {
            throw ObjectiveError("option 'weight' of '\(name)' needs one value per class used (\(channels)"
                                 + "\(settings.includeBackground ? "" : ", background excluded")), got \(cw.count)")
        }
        return try Tensor(w).to(f.device, dtype: f.dtype)
    }

    func reduce(_ f: Tensor, like p: Tensor) throws -> Tensor {
        switch settings.reduction {
        case .mean: return try f.mean()
        case .sum: return try f.sum()
        case .none:
            // MONAI keeps (B, C, 1, …); a batch Dice has no batch dim to keep.
            return try f.reshape(Array(f.shape) + Array(repeating: 1, count: p.rank - 2))
        }
    }
}
