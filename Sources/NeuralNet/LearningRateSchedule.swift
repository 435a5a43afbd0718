import Foundation

/// A learning-rate schedule as a factor of each group's base rate, by step (iteration or
/// epoch — the caller decides what a step is).
public enum LearningRateSchedule: Sendable, Equatable {
    case constant
    /// nnU-Net's poly: (1 − step/total)^exponent (0.9 there).
    case poly(total: Int, exponent: Double = 0.9)
    /// Cosine annealing from 1 to `minFactor` over `total` steps.
    case cosine(total: Int, minFactor: Double = 0)
    /// × gamma every `every` steps.
    case step(every: Int, gamma: Double = 0.1)
    /// Linear warm-up from `startFactor` over `steps`, then `then` (shifted by the warm-up).
    indirect case warmup(steps: Int, startFactor: Double = 0, then: LearningRateSchedule)

    public func factor(at step: Int) -> Double {
        switch self {
        case .constant:
            return 1
        case .poly(let total, let exponent):
            let t = Swift.min(Swift.max(Double(step) / Double(Swift.max(total, 1)), 0), 1)
            return Foundation.pow(1 - t, exponent)
        case .cosine(let total, let minFactor):
            let t = Swift.min(Swift.max(Double(step) / Double(Swift.max(total, 1)), 0), 1)
            return minFactor + (1 - minFactor) * (1 + Foundation.cos(Double.pi * t)) / 2
        case .step(let every, let gamma):
            return Foundation.pow(gamma, Double(step / Swift.max(every, 1)))
        case .warmup(let steps, let startFactor, let then):
            if step < steps {
                return startFactor + (1 - startFactor) * Double(step) / Double(Swift.max(steps, 1))
            }
            return then.factor(at: step - steps)
        }
    }

    /// Parses a name for configuration and the CLI: `constant`, `poly`, `cosine`, `step`.
    public static func named(_ name: String, total: Int, warmup: Int = 0) throws -> LearningRateSchedule {
        let base: LearningRateSchedule
        switch name.lowercased() {
        case "constant", "none": base = .constant
        case "poly": base = .poly(total: total - warmup)
        case "cosine": base = .cosine(total: total - warmup)
        case "step": base = .step(every: Swift.max((total - warmup) / 3, 1))
        default:
            throw NeuralNetError("unknown learning-rate schedule '\(name)': expected constant, poly, cosine or step")
        }
        return warmup > 0 ? .warmup(steps: warmup, then: base) : base
    }
}

public struct NeuralNetError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
