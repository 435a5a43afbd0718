import NeuralNet
import Torch

/// Mean squared error between a heatmap head (B, K, spatial…) and the Gaussian target heatmaps,
/// averaged over the annotated (sample, landmark) channels only; a batch without landmarks
/// gives a zero loss. (BaBLoss's official L_heat is the plain mean over every element, which
/// equals this when every landmark is annotated.)
public struct HeatmapMSE: Objective {
    public let name: String
    public let head: String

    public init(options: ObjectiveOptions) throws {
        name = options.objective
        head = try options.string("head", default: Heads.heatmaps)
    }

    public var heads: [String] { [head] }
    public var needs: Set<TargetField> { [.heatmaps] }

    public func callAsFunction(logits: Tensor, target: LossTarget) throws -> Tensor {
        throw ObjectiveError("'\(name)' compares heatmaps with landmark targets; it has no label-map form (use it in training)")
    }

    public func loss(heads: Heads, targets: Targets) throws -> Tensor {
        let levels = heads.levels(head)
        guard let pred = levels.first else {
            throw ObjectiveError("'\(name)' reads head '\(head)', which the model does not produce (heads: \(heads.names.joined(separator: ", ")))")
        }
        let (truth, mask) = try targets.requireHeatmaps(by: "'\(name)'")
        guard truth.shape == pred.shape else {
            throw ObjectiveError("'\(name)': head '\(head)' has shape \(pred.shape), the target heatmaps \(truth.shape) (one channel per landmark)")
        }
        let rank = pred.rank - 2
        let voxels = Double(pred.shape.dropFirst(2).reduce(1, *))
        let m = try mask.to(pred.device, dtype: pred.dtype)
        let perChannel = try pred.subtracting(try truth.to(pred.device, dtype: pred.dtype)).square()
            .sum(dims: Array(2..<(2 + rank))) / voxels
        let n = try m.sum().item()
        guard n > 0 else { return try pred.sum() * 0 }
        return try perChannel.multiplying(m).sum() / n
    }
}
