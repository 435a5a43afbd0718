import NeuralNet
import Torch

/// BaBLoss's L_sam (METHODS §5.4, `--use_sam`): binary cross-entropy between σ(Ŝ[b, k]) and the
/// pseudo mask 1[T_b = k] of every class k that sample b's pseudo-label file holds
/// (`pseudoLabelsTr/`, written by `contour pseudo-label`).
///
/// The official term is one channel (5, the FeTA cerebellum) on the landmark half of the batch;
/// here every (sample, class) pair with a pseudo mask counts, each the mean over its voxels, and
/// the loss is the mean over those pairs. Samples without pseudo labels contribute nothing; a
/// batch without any gives a zero loss with a graph. Reads the full-resolution level only.
public struct PseudoLabelBCE: Objective {
    public let name: String
    public let head: String

    public init(name: String = "sam", head: String = Heads.segmentation) {
        self.name = name
        self.head = head
    }

    public init(options o: ObjectiveOptions) throws {
        self.init(name: o.objective, head: try o.string("head", default: Heads.segmentation))
    }

    public var heads: [String] { [head] }
    public var needs: Set<TargetField> { [.pseudoLabels] }

    public func callAsFunction(logits: Tensor, target: LossTarget) throws -> Tensor {
        throw ObjectiveError("'\(name)' compares the segmentation with pseudo labels (pseudoLabelsTr/); use it in training")
    }

    public func loss(heads: Heads, targets: Targets) throws -> Tensor {
        guard let logits = heads.levels(head).first else {
            throw ObjectiveError("objective '\(name)' reads head '\(head)', which the model does not produce")
        }
        guard let pseudo = targets.pseudoLabels else { return try logits.sum() * 0 }
        return try value(logits: logits, pseudoLabels: pseudo, classes: targets.pseudoClasses)
    }

    /// L_sam for logits (B, C, spatial…) and pseudo labels (B, 1, spatial…) of class ids;
    /// `classes[b]` the classes sample b's pseudo labels hold (empty: none).
    public func value(logits: Tensor, pseudoLabels: Tensor, classes: [Set<Int>]) throws -> Tensor {
        let b = logits.shape[0], c = logits.shape[1], spatial = Array(logits.shape.dropFirst(2))
        guard logits.rank >= 3, pseudoLabels.shape == [b, 1] + spatial, classes.count == b else {
            throw ObjectiveError("'\(name)': logits \(logits.shape), pseudo labels \(pseudoLabels.shape) and \(classes.count) class sets "
                                 + "must be (B, C, spatial…), (B, 1, spatial…) and B")
        }
        var rows: [Int64] = [], channels: [Int64] = []
        for (i, set) in classes.enumerated() {
            for k in set.sorted() {
                guard k > 0, k < c else {
                    throw ObjectiveError("'\(name)': sample \(i)'s pseudo labels hold class \(k), but head '\(head)' has \(c) channels (classes 0…\(c - 1))")
                }
                rows.append(Int64(i))
                channels.append(Int64(k))
            }
        }
        guard !rows.isEmpty else { return try logits.sum() * 0 }
        let n = rows.count
        let device = logits.device
        let flatIndex = try Tensor(zip(rows, channels).map { $0 * Int64(c) + $1 }, shape: [n]).to(device)
        let z = try logits.reshape([b * c] + spatial).indexSelect(dim: 0, index: flatIndex)
        let t = try pseudoLabels.to(device).reshape([b] + spatial).indexSelect(dim: 0, index: try Tensor(rows, shape: [n]).to(device))
        let k = try Tensor(channels, shape: [n] + [Int](repeating: 1, count: spatial.count)).to(device)
        let target = try t.eq(k).to(logits.dtype)
        return try z.binaryCrossEntropyWithLogits(target: target)
    }
}
