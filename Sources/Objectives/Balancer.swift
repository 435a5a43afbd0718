import NeuralNet
import Torch

/// Combines several objectives into one parameter update.
///
/// A balancer that `needsGradients` receives one gradient per objective — each flattened over
/// all trainable parameters into one vector (zero where an objective does not reach a
/// parameter), objective 0 being the primary — and returns the update direction written to
/// `.grad` before the optimiser steps. `sum` (linear scalarisation) needs no per-objective
/// gradients: the step sums the weighted losses and runs one backward (`dwa` scales them first
/// by `lossWeights`).
public protocol Balancer: AnyObject {
    var name: String { get }
    var needsGradients: Bool { get }
    /// The update direction from per-objective gradients (same length as each) and loss values.
    func combine(_ gradients: [Tensor], losses: [Double]) throws -> Tensor
    /// Under `every: n`, on a step that reuses an earlier decision: its coefficients c, the update
    /// being d = Σₖ cₖ·gₖ — the caller then runs one backward of Σₖ cₖ·Lₖ instead of computing
    /// per-objective gradients and calling `combine`. nil when this step needs the gradients.
    /// Called at most once per step, before `combine`.
    func reusedCoefficients(objectives: Int) -> [Double]?
    /// What changes while training (weights, random state), for checkpoints.
    func state() -> [String: ConfigValue]
    func load(state: [String: ConfigValue]) throws
    /// The weights of the last `combine` (for logs), when the method has any.
    var lastWeights: [Double]? { get }
    /// For a balancer without per-objective gradients: factors for the losses of this step
    /// (one per objective, applied on top of the configured weights), or nil for none.
    func lossWeights(_ losses: [Double]) throws -> [Double]?
    /// Told when a stage epoch (1-based) starts, for balancers that work per epoch (dwa).
    func epochWillStart(_ epoch: Int) throws
}

extension Balancer {
    public func state() -> [String: ConfigValue] { [:] }
    public func load(state: [String: ConfigValue]) throws {}
    public var lastWeights: [Double]? { nil }
    public func reusedCoefficients(objectives: Int) -> [Double]? { nil }
    public func lossWeights(_ losses: [Double]) throws -> [Double]? { nil }
    public func epochWillStart(_ epoch: Int) throws {}
}

/// Linear scalarisation d = Σ_k w_k·g_k (the objectives' configured weights): one backward.
public final class SumBalancer: Balancer {
    public init() {}
    public var name: String { "sum" }
    public var needsGradients: Bool { false }
    public func combine(_ gradients: [Tensor], losses: [Double]) throws -> Tensor {
        guard var total = gradients.first else { throw ObjectiveError("sum: no gradients to combine") }
        for g in gradients.dropFirst() { total = try total.adding(g) }
        return total
    }
}
