import Foundation
import NeuralNet
import Torch

/// Dynamic Weight Average (Liu et al., CVPR 2019) as BaBLoss's official `dyn` option uses it
/// (METHODS §5.4): from the second epoch on, each step weighs objective i by
/// λ_i = exp(r_i/T) / Σ_j exp(r_j/T), r_i = (this step's L_i) / (L_i of the last step of the
/// previous epoch); in the first epoch λ = 1. No ×K factor (the official code has none). Only
/// loss values are needed: one backward of Σ λ_i·w_i·L_i.
public final class DWA: Balancer {
    public let temperature: Double
    /// The stage epoch running (1-based; 0 before the first).
    public private(set) var epoch = 0
    /// The losses of the last step of the previous epoch (nil in the first epoch).
    public private(set) var previous: [Double]?
    /// The losses of the latest step.
    public private(set) var latest: [Double]?
    public private(set) var lastWeights: [Double]?

    public init(temperature: Double = 2) { self.temperature = temperature }

    public convenience init(options: Options) throws {
        self.init(temperature: try options.double("temperature", default: 2, requirement: "a number > 0") { $0 > 0 && $0.isFinite })
    }

    public var name: String { "dwa" }
    public var needsGradients: Bool { false }

    public func epochWillStart(_ e: Int) throws {
        guard e != epoch else { return }
        if epoch > 0, let latest { previous = latest }
        epoch = e
    }

    public func lossWeights(_ losses: [Double]) throws -> [Double]? {
        defer { latest = losses }
        guard let previous, previous.count == losses.count else {
            lastWeights = [Double](repeating: 1, count: losses.count)
            return lastWeights
        }
        let r = zip(losses, previous).map { $0 / $1 / temperature }
        // Softmax, shifted by the maximum so that exp cannot overflow.
        let top = r.max() ?? 0
        let e = r.map { Foundation.exp($0 - top) }
        let sum = e.reduce(0, +)
        lastWeights = e.map { $0 / sum }
        return lastWeights
    }

    /// With per-objective gradients (e.g. `contour balance`): Σ λ_i·g_i.
    public func combine(_ gradients: [Tensor], losses: [Double]) throws -> Tensor {
        guard !gradients.isEmpty, gradients.count == losses.count else {
            throw ObjectiveError("dwa: \(gradients.count) gradients for \(losses.count) losses")
        }
        let w = try lossWeights(losses) ?? []
        var total = gradients[0] * w[0]
        for (g, x) in zip(gradients.dropFirst(), w.dropFirst()) { total = try total.adding(g * x) }
        return total
    }

    public func state() -> [String: ConfigValue] {
        var s: [String: ConfigValue] = ["epoch": .number(Double(epoch))]
        if let previous { s["previous"] = .array(previous.map { .number($0) }) }
        if let latest { s["latest"] = .array(latest.map { .number($0) }) }
        return s
    }

    public func load(state: [String: ConfigValue]) throws {
        func numbers(_ key: String) throws -> [Double]? {
            guard let v = state[key] else { return nil }
            guard case .array(let a) = v else { throw ObjectiveError("dwa checkpoint state: '\(key)' must be a list of numbers, got \(v)") }
            return try a.map { e in
                guard case .number(let x) = e else { throw ObjectiveError("dwa checkpoint state: '\(key)' must be a list of numbers, got \(v)") }
                return x
            }
        }
        guard case .number(let e)? = state["epoch"] else { throw ObjectiveError("dwa checkpoint state lacks 'epoch'") }
        epoch = Int(e)
        previous = try numbers("previous")
        latest = try numbers("latest")
    }
}
