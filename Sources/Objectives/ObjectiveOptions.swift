import NeuralNet
import Torch

/// Objectives read their options with NeuralNet's checked `Options` (shared with the model
/// registry and the experiment configuration); an option value is a `ConfigValue`.
public typealias OptionValue = ConfigValue
public typealias ObjectiveOptions = Options

extension Options {
    /// The objective these options configure.
    public var objective: String { owner }

    /// MONAI's `reduction`: none, mean or sum.
    public func reduction(default d: Reduction = .mean) throws -> Reduction {
        let s = try string("reduction", default: "\(d)", allowed: ["none", "mean", "sum"])
        return try Reduction(parsing: s)
    }
}
