import Foundation
import Imaging
import NeuralNet
import Yams

/// Everything that defines a training run. Read from one YAML or JSON file; every field can
/// be overridden on the command line (`--set optimizer.learningRate=0.003`); unknown keys are
/// errors naming them. The resolved configuration is saved as `config.yaml` in the run folder.
public struct ExperimentConfig: Sendable, Equatable {
    public struct Data: Sendable, Equatable {
        public var dataset = ""
        public var fold = 0
        public var folds = 5
        /// A splits.json (nnU-Net format) to use instead of k-fold.
        public var splits: String?
        public var patchSize: [Int] = []
        public var batchSize = 2
        public var preset = "nnunet-default"
        public var normalization = "zscore"
        public var workers = 2
        public var foregroundOversampling = 0.33
    }

    public struct Model: Sendable, Equatable {
        public var name = "unet2d"
        public var options: [String: ConfigValue] = [:]
    }

    public struct Objective: Sendable, Equatable {
        public var name: String
        public var weight: Double = 1
        public var options: [String: ConfigValue] = [:]
    }

    public struct Optimizer: Sendable, Equatable {
        public var name = "sgd"
        public var learningRate = 0.01
        public var weightDecay = 3e-5
        public var momentum = 0.99
        public var nesterov = true
        public var schedule = "poly"
        public var warmupIterations = 0
        /// Gradient-norm clipping (nnU-Net: 12); 0 disables it.
        public var gradientClip = 12.0
        /// Further options of the named optimizer (adam: betas, eps, amsgrad; a registered one's own).
        public var options: [String: ConfigValue] = [:]

        /// The options `OptimizerRegistry` gets. `momentum` and `nesterov` are SGD's (they predate
        /// `options`), so they go to sgd only; `options` wins over them.
        public func registryOptions() -> Options {
            var values = options
            if name == "sgd" {
                values["momentum"] = values["momentum"] ?? .number(momentum)
                values["nesterov"] = values["nesterov"] ?? .bool(nesterov && momentum > 0)
            }
            return Options(values, for: "optimizer \(name)")
        }
    }

    public struct Run: Sendable, Equatable {
        public var epochs = 10
        public var iterationsPerEpoch = 50
        public var validationInterval = 1
        /// Metric that picks `best`: dice (higher is better), hd95 or betti0_error (lower).
        public var bestMetric = "dice"
        public var seed: UInt64 = 0
        public var device = "auto"
        public var threads = 0
        /// Mixed precision for the forward pass: auto (bfloat16 autocast on CUDA, off on the CPU), off, bf16.
        public var mixedPrecision = "auto"
        /// Consecutive non-finite losses tolerated before the run stops.
        public var maxNonFinite = 5
        public var output = "runs/run"
    }

    public var data = Data()
    public var model = Model()
    public var objectives: [Objective] = [Objective(name: "cedice")]
    public var optimizer = Optimizer()
    public var run = Run()

    public init() {}

    // MARK: Reading

    public static func load(path: String, overrides: [String] = []) throws -> ExperimentConfig {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw TrainingError("\(path): cannot read the configuration: \(error.localizedDescription)")
        }
        return try load(yaml: text, name: path, overrides: overrides)
    }

    /// From YAML or JSON text; `name` labels error messages.
    public static func load(yaml text: String, name: String, overrides: [String] = []) throws -> ExperimentConfig {
        var tree = try parse(yaml: text, name: name)
        try apply(overrides, to: &tree)
        return try ExperimentConfig(tree: tree, name: name)
    }

    /// A configuration from defaults plus `--set` overrides only.
    public static func fromOverrides(_ overrides: [String]) throws -> ExperimentConfig {
        var tree: [String: ConfigValue] = [:]
        try apply(overrides, to: &tree)
        return try ExperimentConfig(tree: tree, name: "command line")
    }

    static func parse(yaml: String, name: String) throws -> [String: ConfigValue] {
        let any: Any?
        do { any = try Yams.load(yaml: yaml) } catch {
            throw TrainingError("\(name): not valid YAML/JSON: \(error)")
        }
        guard let any else { return [:] }
        guard case .object(let o) = try ConfigValue(yaml: any, at: name) else {
            throw TrainingError("\(name): the configuration must be a mapping of sections (data, model, objectives, optimizer, run)")
        }
        return o
    }

    /// Applies `a.b.c=value` overrides (values parsed as YAML scalars or flow collections).
    static func apply(_ overrides: [String], to tree: inout [String: ConfigValue]) throws {
        for item in overrides {
            guard let eq = item.firstIndex(of: "=") else { throw TrainingError("--set \(item): expected key.path=value") }
            let path = item[..<eq].split(separator: ".").map(String.init)
            guard !path.isEmpty else { throw TrainingError("--set \(item): empty key") }
            let valueText = String(item[item.index(after: eq)...])
            let value = try ConfigValue(yaml: (try? Yams.load(yaml: valueText)) as Any? ?? valueText, at: item)
            set(&tree, path[...], value)
        }
    }

    private static func set(_ tree: inout [String: ConfigValue], _ path: ArraySlice<String>, _ value: ConfigValue) {
        let key = path.first!
        if path.count == 1 { tree[key] = value; return }
        var child: [String: ConfigValue] = [:]
        if case .object(let o)? = tree[key] { child = o }
        set(&child, path.dropFirst(), value)
        tree[key] = .object(child)
    }

    init(tree: [String: ConfigValue], name: String, requireDataset: Bool = true) throws {
        self.init()
        let top = Options(tree, for: name)
        func section(_ key: String) throws -> Options? {
            guard top.has(key) else { return nil }
            guard case .object(let o) = top.values[key]! else { throw TrainingError("\(name): '\(key)' must be a mapping") }
            return Options(o, for: key)
        }
        do {
            if let d = try section("data") {
                data.dataset = try d.string("dataset", default: data.dataset)
                data.fold = try d.int("fold", default: data.fold, requirement: "≥ 0") { $0 >= 0 }
                data.folds = try d.int("folds", default: data.folds, requirement: "≥ 2") { $0 >= 2 }
                data.splits = d.has("splits") ? try d.string("splits", default: "") : nil
                data.patchSize = try d.ints("patchSize", default: data.patchSize, requirement: "a list of positive sizes") { $0 > 0 }
                data.batchSize = try d.int("batchSize", default: data.batchSize, requirement: "≥ 1") { $0 >= 1 }
                data.preset = try d.string("preset", default: data.preset, allowed: AugmentationPreset.names)
                data.normalization = try d.string("normalization", default: data.normalization)
                data.workers = try d.int("workers", default: data.workers, requirement: "0 to 64") { (0...64).contains($0) }
                data.foregroundOversampling = try d.double("foregroundOversampling", default: data.foregroundOversampling,
                                                           requirement: "in [0, 1]") { (0...1).contains($0) }
                try d.finish()
            }
            if let m = try section("model") {
                model.name = try m.string("name", default: model.name)
                if m.has("options") {
                    guard case .object(let o) = m.values["options"]! else { throw TrainingError("model.options must be a mapping") }
                    model.options = o
                }
                try m.finish()
            }
            if top.has("objectives") {
                objectives = try Self.objectives(top.values["objectives"]!)
            }
            if let o = try section("optimizer") {
                optimizer.name = try o.string("name", default: optimizer.name, allowed: OptimizerRegistry.names)
                optimizer.learningRate = try o.double("learningRate", default: optimizer.learningRate, requirement: "> 0") { $0 > 0 }
                optimizer.weightDecay = try o.double("weightDecay", default: optimizer.weightDecay, requirement: "≥ 0") { $0 >= 0 }
                optimizer.momentum = try o.double("momentum", default: optimizer.momentum, requirement: "in [0, 1)") { $0 >= 0 && $0 < 1 }
                optimizer.nesterov = try o.bool("nesterov", default: optimizer.nesterov)
                optimizer.schedule = try o.string("schedule", default: optimizer.schedule, allowed: ["constant", "poly", "cosine", "step"])
                optimizer.warmupIterations = try o.int("warmupIterations", default: 0, requirement: "≥ 0") { $0 >= 0 }
                optimizer.gradientClip = try o.double("gradientClip", default: optimizer.gradientClip, requirement: "≥ 0") { $0 >= 0 }
                if o.has("options") {
                    guard case .object(let opt) = o.values["options"]! else { throw TrainingError("optimizer.options must be a mapping") }
                    optimizer.options = opt
                }
                try o.finish()
            }
            if let r = try section("run") {
                run.epochs = try r.int("epochs", default: run.epochs, requirement: "≥ 1") { $0 >= 1 }
                run.iterationsPerEpoch = try r.int("iterationsPerEpoch", default: run.iterationsPerEpoch, requirement: "≥ 1") { $0 >= 1 }
                run.validationInterval = try r.int("validationInterval", default: run.validationInterval, requirement: "≥ 1") { $0 >= 1 }
                run.bestMetric = try r.string("bestMetric", default: run.bestMetric, allowed: ["dice", "hd95", "betti0_error"])
                run.seed = UInt64(try r.int("seed", default: Int(run.seed), requirement: "≥ 0") { $0 >= 0 })
                run.device = try r.string("device", default: run.device)
                run.threads = try r.int("threads", default: run.threads, requirement: "≥ 0") { $0 >= 0 }
                run.mixedPrecision = try r.string("mixedPrecision", default: run.mixedPrecision, allowed: ["auto", "off", "bf16"])
                run.maxNonFinite = try r.int("maxNonFinite", default: run.maxNonFinite, requirement: "≥ 1") { $0 >= 1 }
                run.output = try r.string("output", default: run.output)
                try r.finish()
            }
            try top.finish()
        } catch let e as NeuralNetError {
            throw TrainingError("\(name): \(e.description)")
        }
        if requireDataset && data.dataset.isEmpty { throw TrainingError("\(name): data.dataset is required (the dataset folder)") }
    }

    static func objectives(_ value: ConfigValue) throws -> [Objective] {
        if case .array(let a) = value, a.allSatisfy({ if case .string = $0 { return true } else { return false } }), a.isEmpty == false {
            return a.compactMap { if case .string(let s) = $0 { return Objective(name: s) } else { return nil } }
        }
        let items: [ConfigValue]
        switch value {
        case .array(let a): items = a
        // Shorthand: "cedice", or several names separated by commas ("ce,dice"); '+' belongs to
        // names such as scnp+cedice.
        case .string(let s): return s.split(separator: ",").map { Objective(name: $0.trimmingCharacters(in: .whitespaces)) }
        default: throw TrainingError("objectives must be a list of {name, weight, options}")
        }
        guard !items.isEmpty else { throw TrainingError("objectives must not be empty") }
        return try items.enumerated().map { i, item in
            if case .string(let s) = item { return Objective(name: s) }
            guard case .object(let o) = item else { throw TrainingError("objectives[\(i)] must be a name or {name, weight, options}") }
            let r = Options(o, for: "objectives[\(i)]")
            let name = try r.string("name", default: "")
            guard !name.isEmpty else { throw TrainingError("objectives[\(i)].name is required") }
            let weight = try r.double("weight", default: 1, requirement: "≥ 0") { $0 >= 0 }
            var options: [String: ConfigValue] = [:]
            if r.has("options") {
                guard case .object(let opt) = r.values["options"]! else { throw TrainingError("objectives[\(i)].options must be a mapping") }
                options = opt
            }
            try r.finish()
            return Objective(name: name, weight: weight, options: options)
        }
    }

    // MARK: Writing

    public var tree: [String: ConfigValue] {
        func n(_ x: Int) -> ConfigValue { .number(Double(x)) }
        var d: [String: ConfigValue] = [
            "dataset": .string(data.dataset), "fold": n(data.fold), "folds": n(data.folds),
            "patchSize": .array(data.patchSize.map(n)), "batchSize": n(data.batchSize), "preset": .string(data.preset),
            "normalization": .string(data.normalization), "workers": n(data.workers),
            "foregroundOversampling": .number(data.foregroundOversampling),
        ]
        if let s = data.splits { d["splits"] = .string(s) }
        return [
            "data": .object(d),
            "model": .object(["name": .string(model.name), "options": .object(model.options)]),
            "objectives": .array(objectives.map { .object(["name": .string($0.name), "weight": .number($0.weight), "options": .object($0.options)]) }),
            "optimizer": .object([
                "name": .string(optimizer.name), "learningRate": .number(optimizer.learningRate),
                "weightDecay": .number(optimizer.weightDecay), "momentum": .number(optimizer.momentum),
                "nesterov": .bool(optimizer.nesterov), "schedule": .string(optimizer.schedule),
                "warmupIterations": n(optimizer.warmupIterations), "gradientClip": .number(optimizer.gradientClip),
                "options": .object(optimizer.options),
            ]),
            "run": .object([
                "epochs": n(run.epochs), "iterationsPerEpoch": n(run.iterationsPerEpoch),
                "validationInterval": n(run.validationInterval), "bestMetric": .string(run.bestMetric),
                "seed": .number(Double(run.seed)), "device": .string(run.device), "threads": n(run.threads),
                "maxNonFinite": n(run.maxNonFinite), "output": .string(run.output), "mixedPrecision": .string(run.mixedPrecision),
            ]),
        ]
    }

    /// The resolved configuration as YAML (readable back by `load`).
    public func yaml() throws -> String {
        try Yams.dump(object: ConfigValue.object(tree).plain, sortKeys: true)
    }
}

extension Options {
    /// Any string (no fixed set of choices).
    func string(_ key: String, default d: String) throws -> String {
        guard has(key) else { return d }
        guard case .string(let s) = values[key]! else { throw NeuralNetError("option '\(key)' of '\(owner)' must be a string, got \(values[key]!)") }
        return s
    }
}

extension ConfigValue {
    /// From what Yams (or JSONSerialization) produced.
    init(yaml any: Any, at name: String) throws {
        switch any {
        case is NSNull: self = .null
        case let b as Bool: self = .bool(b)
        case let i as Int: self = .number(Double(i))
        case let d as Double: self = .number(d)
        case let s as String: self = .string(s)
        case let a as [Any]: self = .array(try a.map { try ConfigValue(yaml: $0, at: name) })
        case let o as [String: Any]: self = .object(try o.mapValues { try ConfigValue(yaml: $0, at: name) })
        case let o as [AnyHashable: Any]:
            var out: [String: ConfigValue] = [:]
            for (k, v) in o { out["\(k)"] = try ConfigValue(yaml: v, at: name) }
            self = .object(out)
        default: throw TrainingError("\(name): unsupported value \(any)")
        }
    }

    /// As plain Swift values (for Yams.dump).
    var plain: Any {
        switch self {
        case .bool(let b): return b
        case .number(let d): return d.rounded() == d && Swift.abs(d) < 1e15 ? Int(d) as Any : d as Any
        case .string(let s): return s
        case .array(let a): return a.map(\.plain)
        case .object(let o): return o.mapValues(\.plain)
        case .null: return NSNull()
        }
    }
}

public struct TrainingError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
