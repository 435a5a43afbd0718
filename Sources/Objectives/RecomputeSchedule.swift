import NeuralNet

/// The `every: n` option of the weighting balancers: weights (and projection coefficients) are
/// solved on the first step and every n-th after it; the steps between combine the current
/// gradients with the stored coefficients (cheaper, and steadier weights). Checkpointed, so a
/// resumed run recomputes on the same steps with the same stored coefficients.
struct RecomputeSchedule {
    let every: Int
    private(set) var step = 0
    /// The stored coefficients (weights, or projection coefficients for pgp).
    var stored: [Double]?

    init(every: Int = 1) { self.every = every }

    init(options: Options) throws {
        self.init(every: try options.int("every", default: 1, requirement: "≥ 1") { $0 >= 1 })
    }

    /// The stored coefficients when this step reuses them (and they fit `count` objectives), else nil; advances the step.
    mutating func reusable(count: Int) -> [Double]? {
        defer { step += 1 }
        guard step % every != 0, let s = stored, s.count == count else { return nil }
        return s
    }

    var state: [String: ConfigValue] {
        var o: [String: ConfigValue] = ["step": .number(Double(step))]
        if let stored { o["stored"] = .array(stored.map { .number($0) }) }
        return o
    }

    mutating func load(_ state: [String: ConfigValue], owner: String) throws {
        guard case .number(let s)? = state["step"], s >= 0, s.rounded() == s else {
            throw ObjectiveError("\(owner) state: expected {\"step\": <integer ≥ 0>, \"stored\": [numbers]}, got \(state)")
        }
        step = Int(s)
        switch state["stored"] {
        case nil, .null?: stored = nil
        case .array(let a)?:
            stored = try a.map {
                guard case .number(let x) = $0 else { throw ObjectiveError("\(owner) state: 'stored' must be a list of numbers, got \(a)") }
                return x
            }
        case let v?: throw ObjectiveError("\(owner) state: 'stored' must be a list of numbers, got \(v)")
        }
    }
}
