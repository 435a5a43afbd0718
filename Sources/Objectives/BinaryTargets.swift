import NeuralNet
import Torch

/// The binary mask (label > 0) of the samples a batch annotates, for objectives on one-channel
/// heads that read several heads at once (ConDSeg). Samples without a label map are left out
/// of every head alike; a batch annotating nothing gives nil.
struct BinaryTargets {
    /// (B′, 1, spatial…) float mask in the heads' dtype.
    let mask: Tensor
    /// The rows kept, or nil when every sample is annotated.
    let rows: Tensor?

    init?(_ targets: Targets, like head: Tensor, user: String) throws {
        let labels = try targets.requireLabels(by: user)
        guard labels.shape[0] == head.shape[0], Array(labels.shape.dropFirst(2)) == Array(head.shape.dropFirst(2)) else {
            throw ObjectiveError("\(user): labels \(labels.shape) do not match head \(head.shape)")
        }
        let keep = targets.annotatedLabels.enumerated().filter { !$0.element.isEmpty }.map { Int64($0.offset) }
        guard !keep.isEmpty else { return nil }
        var l = try labels.to(head.device)
        if keep.count < head.shape[0] {
            rows = try Tensor(keep, shape: [keep.count]).to(head.device)
            l = try l.indexSelect(dim: 0, index: rows!)
        } else {
            rows = nil
        }
        mask = try l.gt(0).to(head.dtype)
    }

    /// The binary mask of another label tensor laid out like the targets' labels (same rows kept).
    func mask(of labels: Tensor, like head: Tensor) throws -> Tensor {
        try select(try labels.to(head.device)).gt(0).to(head.dtype)
    }

    /// The annotated rows of a head.
    func select(_ t: Tensor) throws -> Tensor { try rows.map { try t.indexSelect(dim: 0, index: $0) } ?? t }
}

/// A head by name as one binary logit channel: a one-channel head as it is, a two-class head
/// (background, foreground) as z₁ − z₀, whose sigmoid is the softmax's foreground probability.
func binaryHead(_ heads: Heads, _ name: String, user: String) throws -> Tensor {
    try binaryLogit(try heads.require(name, by: user), head: name, user: user)
}

func binaryLogit(_ t: Tensor, head: String, user: String) throws -> Tensor {
    guard t.rank >= 3, t.shape[1] == 1 || t.shape[1] == 2 else {
        throw ObjectiveError("\(user) reads binary heads (one channel, or two classes); head '\(head)' has shape \(t.shape)")
    }
    return t.shape[1] == 1 ? t : try t.narrow(dim: 1, start: 1, length: 1).subtracting(try t.narrow(dim: 1, start: 0, length: 1))
}
