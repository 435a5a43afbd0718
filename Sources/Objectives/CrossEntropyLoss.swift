import Torch

/// Softmax cross-entropy (C > 1) or binary cross-entropy on logits (C = 1), as PyTorch's
/// `cross_entropy` / `binary_cross_entropy_with_logits` and MONAI's DiceCE's CE term.
///
/// Options: `weight` (class weights, one per channel; for C = 1 the positive-class weight),
/// `labelSmoothing` (0, in [0, 1], C > 1), `ignoreIndex` (a label value excluded from the
/// mean, C > 1, labels only), `reduction` (mean; none gives (B, spatial…)).
public struct CrossEntropyLoss: Objective {
    public let name: String
    public var classWeights: [Double]?
    public var labelSmoothing: Double
    public var ignoreIndex: Int?
    public var reduction: Reduction

    public init(options o: ObjectiveOptions) throws {
        name = o.objective
        classWeights = try o.doubles("weight", requirement: "a number or list of numbers ≥ 0", valid: { $0 >= 0 })
        labelSmoothing = try o.double("labelSmoothing", default: 0, requirement: "a number in [0, 1]",
                                      valid: { (0...1).contains($0) })
        ignoreIndex = try o.optionalInt("ignoreIndex")
        reduction = try o.reduction()
    }

    public func callAsFunction(logits: Tensor, target: LossTarget) throws -> Tensor {
        let c = logits.shape[1]
        if c == 1 {
            guard ignoreIndex == nil else {
                throw ObjectiveError("option 'ignoreIndex' of '\(name)' needs C > 1 output channels (softmax)")
            }
            let g = try target.denseTarget(for: logits)
            return try logits.binaryCrossEntropyWithLogits(target: g, posWeight: weightTensor(1, logits), reduction: reduction)
        }
        let w = try weightTensor(c, logits)
        if target.hasLabels || ignoreIndex != nil {
            let l = try target.labelMap(for: logits, ignoring: ignoreIndex).squeeze(dim: 1).to(logits.device)
            return try logits.crossEntropy(target: l, weight: w, reduction: reduction, ignoreIndex: ignoreIndex,
                                           labelSmoothing: labelSmoothing)
        }
        // A dense target is used as class probabilities (what MONAI passes on for one-hot targets).
        return try logits.crossEntropy(target: target.denseTarget(for: logits), weight: w, reduction: reduction,
                                       labelSmoothing: labelSmoothing)
    }

    private func weightTensor(_ channels: Int, _ logits: Tensor) throws -> Tensor? {
        guard let cw = classWeights else { return nil }
        guard cw.count == channels || (channels == 1 && cw.count == 1) else {
            throw ObjectiveError("option 'weight' of '\(name)' needs one value per output channel (\(channels)), got \(cw.count)")
        }
        let t = try Tensor(cw).to(logits.device, dtype: logits.dtype)
        // BCE's pos_weight broadcasts over (B, 1, spatial…).
        return channels == 1 ? try t.reshape([1] + Array(repeating: 1, count: logits.rank - 1)) : t
    }
}

extension CrossEntropyLoss {
    /// The CE term of a composite loss that adds a mean-reduced term to it: reduction must be mean.
    init(meanReducedFor o: ObjectiveOptions) throws {
        try self.init(options: o)
        guard reduction == .mean else { throw ObjectiveError("option 'reduction' of '\(o.objective)' must be mean") }
    }
}
