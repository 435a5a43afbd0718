import NeuralNet
import Torch

/// The `every: n` option of the weighting balancers: the update is decided (weights solved,
/// projections tested) on the first step and every n-th after it. Every such decision is a
/// linear combination d = Σₖ cₖ·gₖ of the per-objective gradients, so the steps between reuse
/// the coefficients c — and a training step needs just ONE backward of Σₖ cₖ·Lₖ there instead
/// of one per objective. Checkpointed, so a resumed run decides on the same steps.
struct RecomputeSchedule {
    /// One decision: the coefficients of the update, plus what it logs (weights, projections).
    struct Decision: Equatable {
        var coefficients: [Double]
        var weights: [Double]
        var projected: [Int] = []
    }

    let every: Int
    private(set) var step = 0
    var stored: Decision?

    init(every: Int = 1) { self.every = every }

    init(options: Options) throws {
        self.init(every: try options.int("every", default: 1, requirement: "≥ 1") { $0 >= 1 })
    }

    /// The stored decision when this step reuses it (and it fits `count` objectives), else nil; advances the step.
    mutating func reusable(count: Int) -> Decision? {
        defer { step += 1 }
        return reusing(count: count)
    }

    /// The stored decision when this step reuses it, advancing the step only then (a step that
    /// decides afresh advances in `reusable` when the balancer combines its gradients).
    mutating func takeIfReusing(count: Int) -> Decision? {
        guard let d = reusing(count: count) else { return nil }
        step += 1
        return d
    }

    /// This step's update: from the stored decision when the step reuses it, else `decide`'s
    /// (decision and direction), which is stored for the steps after.
    mutating func update(_ gradients: [Tensor], decide: () throws -> (Decision, Tensor)) throws -> (decision: Decision, direction: Tensor) {
        if let d = reusable(count: gradients.count) { return (d, try GradientGram.combine(gradients, weights: d.coefficients)) }
        let (d, direction) = try decide()
        stored = d
        return (d, direction)
    }

    private func reusing(count: Int) -> Decision? {
        guard step % every != 0, let s = stored, s.coefficients.count == count else { return nil }
        return s
    }

    var state: [String: ConfigValue] {
        var o: [String: ConfigValue] = ["step": .number(Double(step))]
        if let stored {
            o["coefficients"] = .array(stored.coefficients.map { .number($0) })
            o["weights"] = .array(stored.weights.map { .number($0) })
            o["projected"] = .array(stored.projected.map { .number(Double($0)) })
        }
        return o
    }

    mutating func load(_ state: [String: ConfigValue], owner: String) throws {
        let expected = "expected {\"step\": <integer ≥ 0>, \"coefficients\": [numbers], \"weights\": [numbers], \"projected\": [integers]}"
        guard case .number(let s)? = state["step"], s >= 0, s.rounded() == s else {
            throw ObjectiveError("\(owner) state: \(expected), got \(state)")
        }
        func numbers(_ key: String) throws -> [Double]? {
            switch state[key] {
            case nil, .null?: return nil
            case .array(let a)?:
                return try a.map {
                    guard case .number(let x) = $0 else { throw ObjectiveError("\(owner) state: '\(key)' must be a list of numbers, got \(a)") }
                    return x
                }
            case let v?: throw ObjectiveError("\(owner) state: '\(key)' must be a list of numbers, got \(v)")
            }
        }
        step = Int(s)
        // A checkpoint without coefficients (none decided yet, or an older format) decides afresh next step.
        guard let c = try numbers("coefficients") else { stored = nil; return }
        stored = Decision(coefficients: c, weights: try numbers("weights") ?? c,
                          projected: try (numbers("projected") ?? []).map { Int($0) })
    }
}
