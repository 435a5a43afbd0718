import Torch

/// Optimizers by name, so configurations pick them like models and objectives, and a package
/// depending on Contour can add its own with `register`. Learning rate and weight decay live in
/// the `ParameterGroup`s; the options carry the rest (`weightDecay`, if given, overrides the groups').
///
/// Unknown names are errors listing the known ones, never a silent fallback to SGD.
public enum OptimizerRegistry {
    public struct Entry: Sendable {
        public let name: String
        public let summary: String
        let make: @Sendable ([ParameterGroup], Options) throws -> any Optimizer
    }

    static let builtIns: [Entry] = [
        Entry(name: "sgd", summary: "SGD as torch.optim.SGD; momentum (0), dampening (0), nesterov (false), weightDecay") { groups, o in
            let momentum = try o.double("momentum", default: 0, requirement: "a number ≥ 0") { $0 >= 0 }
            let dampening = try o.double("dampening", default: 0, requirement: "a number ≥ 0") { $0 >= 0 }
            let nesterov = try o.bool("nesterov", default: false)
            return try SGD(weightDecay(o, groups), momentum: momentum, dampening: dampening, nesterov: nesterov)
        },
        Entry(name: "adam", summary: "Adam as torch.optim.Adam (L2 decay on the gradient); betas ([0.9, 0.999]), eps (1e-8), amsgrad (false), weightDecay") { groups, o in
            let a = try adamSettings(o)
            return try Adam(weightDecay(o, groups), betas: a.betas, eps: a.eps, amsgrad: a.amsgrad)
        },
        Entry(name: "adamw", summary: "AdamW as torch.optim.AdamW (decoupled decay); betas ([0.9, 0.999]), eps (1e-8), amsgrad (false), weightDecay") { groups, o in
            let a = try adamSettings(o)
            return try AdamW(weightDecay(o, groups), betas: a.betas, eps: a.eps, amsgrad: a.amsgrad)
        },
    ]

    static let store = RegistryStore(builtIns, kind: "optimizer") { $0.name }

    /// Built-ins first, then registered optimizers in registration order.
    public static var entries: [Entry] { store.entries }

    public static var names: [String] { store.names }

    /// Makes `name` available to `make` and to configurations (`optimizer: {name: …}`).
    /// A name that exists is an error unless `replace` is true.
    public static func register(name: String, summary: String, replace: Bool = false,
                                make: @escaping @Sendable (_ groups: [ParameterGroup], _ options: Options) throws -> any Optimizer) throws {
        if let problem = store.add(Entry(name: name, summary: summary, make: make), replace: replace) {
            throw NeuralNetError(problem)
        }
    }

    /// Builds `name` over `groups`; every option must be read by the optimizer.
    public static func make(_ name: String, groups: [ParameterGroup], options: Options? = nil) throws -> any Optimizer {
        guard let entry = store.entry(named: name) else {
            throw NeuralNetError("unknown optimizer '\(name)'; known: \(names.joined(separator: ", "))")
        }
        let o = options ?? Options([:], for: name)
        let optimizer = try entry.make(groups, o)
        try o.finish()
        return optimizer
    }

    static func weightDecay(_ o: Options, _ groups: [ParameterGroup]) throws -> [ParameterGroup] {
        guard let wd = try o.optionalDouble("weightDecay", requirement: "a number ≥ 0", valid: { $0 >= 0 }) else { return groups }
        return groups.map { var g = $0; g.weightDecay = wd; return g }
    }

    static func adamSettings(_ o: Options) throws -> (betas: (Double, Double), eps: Double, amsgrad: Bool) {
        let betas = try o.doubles("betas", requirement: "two numbers in [0, 1)") { (0..<1).contains($0) } ?? [0.9, 0.999]
        guard betas.count == 2 else { throw NeuralNetError("option 'betas' of '\(o.owner)' must be two numbers in [0, 1), got \(betas)") }
        let eps = try o.double("eps", default: 1e-8, requirement: "a number ≥ 0") { $0 >= 0 }
        return ((betas[0], betas[1]), eps, try o.bool("amsgrad", default: false))
    }
}
