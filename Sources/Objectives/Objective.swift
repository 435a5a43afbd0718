import NeuralNet
import Torch

/// A training objective: it reads named model heads and the batch's targets, and returns its
/// own loss, reduced only over what the batch annotates.
///
/// Most objectives compare one head's logits (B, C, spatial…) with label maps and only implement
/// `callAsFunction(logits:target:)`; the default `loss(heads:targets:)` then applies it to the
/// head they read (`segmentation` unless configured otherwise) at every deep-supervision level,
/// over annotated samples only (see `AnnotatedSegmentationLoss`). Objectives that read several
/// heads or other targets (heatmaps, landmarks) implement `loss(heads:targets:)` themselves and
/// declare `heads` and `needs`. With `reduction: mean` (every default) the result is a scalar,
/// so objectives can be weighted and summed, or balanced one by one.
public protocol Objective {
    /// The registry name this objective was built from (`dice`, `scnp+focal`, …).
    var name: String { get }
    /// The heads this objective reads; the first is the one `callAsFunction(logits:target:)` sees.
    var heads: [String] { get }
    /// The target fields this objective needs.
    var needs: Set<TargetField> { get }
    func callAsFunction(logits: Tensor, target: LossTarget) throws -> Tensor
    func loss(heads: Heads, targets: Targets) throws -> Tensor
}

extension Objective {
    public var heads: [String] { [Heads.segmentation] }
    public var needs: Set<TargetField> { [.labels] }

    public func loss(heads: Heads, targets: Targets) throws -> Tensor {
        try AnnotatedSegmentationLoss.loss(self, levels: heads.levels(self.heads[0]), targets: targets, head: self.heads[0])
    }
}

/// An objective reading another head than its default (`{name: dice, head: foreground}`).
public struct HeadBoundObjective: Objective {
    public let inner: any Objective
    public let head: String

    public init(_ inner: any Objective, head: String) throws {
        guard inner.heads.count == 1 else {
            throw ObjectiveError("'\(inner.name)' reads the heads \(inner.heads); 'head' can only redirect an objective that reads one")
        }
        self.inner = inner
        self.head = head
    }

    public var name: String { "\(inner.name)@\(head)" }
    public var heads: [String] { [head] }
    public var needs: Set<TargetField> { inner.needs }

    public func callAsFunction(logits: Tensor, target: LossTarget) throws -> Tensor { try inner(logits: logits, target: target) }

    public func loss(heads: Heads, targets: Targets) throws -> Tensor {
        let levels = heads.levels(head)
        guard !levels.isEmpty else {
            throw ObjectiveError("objective '\(inner.name)' reads head '\(head)', which the model does not produce (heads: \(heads.names.joined(separator: ", ")))")
        }
        var renamed = Heads()
        renamed.set(inner.heads[0], levels: levels)
        return try inner.loss(heads: renamed, targets: targets)
    }
}

/// A user-facing error of the Objectives layer; the message names the option or input at fault.
public struct ObjectiveError: Error, CustomStringConvertible, Equatable {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
