import Torch

/// A training objective: logits (B, C, spatial…) and a target in, its own loss out.
///
/// Objectives take raw logits; each applies its own activation. With `reduction: mean` (every
/// default) the result is a scalar, so objectives can be weighted and summed by
/// `CompositeObjective` or balanced one by one (each is evaluable on its own).
public protocol Objective {
    /// The registry name this objective was built from (`dice`, `scnp+focal`, …).
    var name: String { get }
    func callAsFunction(logits: Tensor, target: LossTarget) throws -> Tensor
}

/// A user-facing error of the Objectives layer; the message names the option or input at fault.
public struct ObjectiveError: Error, CustomStringConvertible, Equatable {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
