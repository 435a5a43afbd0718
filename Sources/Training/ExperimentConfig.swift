import Foundation
import Imaging
import Metrics
import NeuralNet
import Objectives
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
        /// A `contour data preprocess` folder to train from (memory-mapped patches) instead of
        /// reading `dataset`'s files; `dataset` still names the cases and labels.
        public var preprocessed: String?
        /// Training cases and validation images kept in memory: `memory`, `none` (raw files are
        /// decoded per access, preprocessed cases read by memory map), or `auto` (memory for raw
        /// data and for preprocessed folders up to 2 GiB).
        public var cache = "auto"
        /// Presets reproduce the official code's quirks (`condseg-strong`: one draw per batch, 1×7 blur).
        public var parity = false
        /// How landmark heatmap targets are rendered (σ in voxels, scale, normalisation).
        public var heatmap = Heatmap()
    }

    public struct Heatmap: Sendable, Equatable {
        public var sigma = 2.0
        public var scale = 1.0
        /// landmark (each map's peak = scale), batch (BaBLoss's whole-batch min–max), none.
        public var normalization = "landmark"
    }

    /// How validation and `contour evaluate` score landmarks.
    public struct EvaluationSettings: Sendable, Equatable {
        /// SDR radii in mm.
        public var sdrRadii: [Double] = LandmarkErrors.defaultRadii
        /// argmax (official), softargmax or quadratic.
        public var landmarkExtraction = "argmax"
        /// Half-width of the soft-argmax window, voxels.
        public var landmarkWindow = 2
    }

    public struct Model: Sendable, Equatable {
        public var name = "unet2d"
        public var options: [String: ConfigValue] = [:]
        /// Starting weights from a file (key `pretrained`), loaded before `init`.
        public var pretrained: Pretrained?
    }

    /// A safetensors or PyTorch `.pth` file loaded by exact key at the start of training; keys the
    /// model lacks (a classifier's `fc.*`) and model keys the file lacks are reported, a shape
    /// mismatch is an error. `prefix` maps file keys onto a submodule (`encoder.`).
    public struct Pretrained: Sendable, Equatable {
        public var file: String
        public var prefix: String = ""
        public init(file: String, prefix: String = "") {
            self.file = file
            self.prefix = prefix
        }
    }

    public struct Objective: Sendable, Equatable {
        public var name: String
        public var weight: Double = 1
        public var options: [String: ConfigValue] = [:]
        /// The model head this objective reads, when not its default (`segmentation`).
        public var head: String?
        public init(name: String, weight: Double = 1, options: [String: ConfigValue] = [:], head: String? = nil) {
            self.name = name
            self.weight = weight
            self.options = options
            self.head = head
        }
    }

    /// A named, configured component (`balancer`, `step`).
    public struct Component: Sendable, Equatable {
        public var name: String
        public var options: [String: ConfigValue] = [:]
        public init(name: String, options: [String: ConfigValue] = [:]) {
            self.name = name
            self.options = options
        }
    }

    /// Where a stage's weights start from: an earlier stage's name, or a checkpoint/run folder.
    public struct Initialization: Sendable, Equatable {
        public var from: String
        /// Shell-style patterns of state-dict keys to copy (`encoder.*`); all by default.
        public var keys: [String] = ["*"]
        /// Whether buffers (e.g. batch-norm running statistics) are copied too.
        public var buffers = true
    }

    /// One stage of a multi-stage run: a name and the sections it changes.
    public struct Stage: Sendable, Equatable {
        public var name: String
        public var overrides: [String: ConfigValue]
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
        /// Parameter groups with their own rates: `[{keys: ["encoder.*"], learningRate: 1e-4}]`;
        /// parameters no group matches form the default group.
        public var groups: [Group] = []
        /// For `schedule: plateau` (ReduceLROnPlateau on a validation metric).
        public var plateau = Plateau()
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

    public struct Group: Sendable, Equatable {
        public var keys: [String]
        public var learningRate: Double?
        public var weightDecay: Double?
    }

    public struct Plateau: Sendable, Equatable {
        /// Validation metric watched; `run.bestMetric` when nil.
        public var metric: String?
        public var patience = 10
        public var factor = 0.1
        public var threshold = 1e-4
        public var cooldown = 0
        public var minLearningRate = 0.0
    }

    public struct EarlyStopping: Sendable, Equatable {
        /// Validation metric watched; `run.bestMetric` when nil.
        public var metric: String?
        /// Validations without improvement before the stage stops.
        public var patience: Int
    }

    public struct Run: Sendable, Equatable {
        public var epochs = 10
        public var iterationsPerEpoch = 50
        public var validationInterval = 1
        /// Metric that picks `best`: any `MetricCatalog` name; its direction comes from the catalog.
        public var bestMetric = "dice"
        public var seed: UInt64 = 0
        public var device = "auto"
        public var threads = 0
        /// Mixed precision for the forward pass: auto (bfloat16 autocast on CUDA, off on the CPU), off, bf16.
        public var mixedPrecision = "auto"
        /// Consecutive non-finite losses tolerated before the run stops.
        public var maxNonFinite = 5
        public var output = "runs/run"
        public var earlyStopping: EarlyStopping?
        /// Event files for `tensorboard --logdir` in RUN/tensorboard/.
        public var tensorboard = true
        /// Data parallel: average the gradients of a plain backward while it runs (DDP's overlap).
        public var overlapAllReduce = true
    }

    public var data = Data()
    public var evaluation = EvaluationSettings()
    public var model = Model()
    public var objectives: [Objective] = [Objective(name: "cedice")]
    public var optimizer = Optimizer()
    public var run = Run()
    /// How several objectives become one update; the first objective is the primary.
    public var balancer = Component(name: "sum")
    /// What one training iteration does (`default`: forward, objectives, balancer).
    public var step = Component(name: "default")
    /// Starting weights (key `init`).
    public var initialization: Initialization?
    /// Key patterns of parameters that are not trained.
    public var freeze: [String] = []
    /// Stages run in order into one run folder; empty means one stage, this configuration.
    public var stages: [Stage] = []

    public init() {}

    // MARK: Reading

    public static func load(path: String, overrides: [String] = []) throws -> ExperimentConfig {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw TrainingError("\(path): cannot read the configuration (\(FileManager.default.fileExists(atPath: path) ? "not readable UTF-8 text" : "no such file"))")
        }
        return try load(yaml: text, name: path, overrides: overrides)
    }

    /// From YAML or JSON text; `name` labels error messages (`name:LINE: …`, or `--set …: …`
    /// for a value an override wrote).
    public static func load(yaml text: String, name: String, overrides: [String] = []) throws -> ExperimentConfig {
        var tree = try parse(yaml: text, name: name)
        let written = try apply(overrides, to: &tree)
        let source = ConfigSource(name: name, text: text, overrides: written)
        return try ExperimentConfig(tree: tree, name: name, locate: source.locate)
    }

    /// A configuration from defaults plus `--set` overrides only.
    public static func fromOverrides(_ overrides: [String]) throws -> ExperimentConfig {
        var tree: [String: ConfigValue] = [:]
        let written = try apply(overrides, to: &tree)
        let source = ConfigSource(name: "command line", text: nil, overrides: written)
        return try ExperimentConfig(tree: tree, name: "command line", locate: source.locate)
    }

    /// Without a leading byte-order mark (Windows editors write one): Yams would count it as the
    /// first line's column 0, so the next top-level key would no longer line up with the first.
    static func withoutByteOrderMark(_ text: String) -> String {
        text.unicodeScalars.first == "\u{FEFF}" ? String(text.unicodeScalars.dropFirst()) : text
    }

    static func parse(yaml text: String, name: String) throws -> [String: ConfigValue] {
        let yaml = withoutByteOrderMark(text)
        try YAMLBounds.check(yaml, name: name)
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

    /// Applies `a.b.c=value` / `a[0].b=value` overrides (values parsed as YAML scalars or flow
    /// collections); returns each override's path with its text, for messages.
    @discardableResult
    static func apply(_ overrides: [String], to tree: inout [String: ConfigValue]) throws -> [(path: ConfigPath, item: String)] {
        var written: [(path: ConfigPath, item: String)] = []
        for item in overrides {
            guard let eq = item.firstIndex(of: "=") else { throw TrainingError("--set \(item): expected key.path=value") }
            guard let path = ConfigPath(parsing: String(item[..<eq])) else {
                throw TrainingError("--set \(item): '\(item[..<eq])' is not a key path (expected e.g. optimizer.learningRate or objectives[0].weight)")
            }
            let valueText = String(item[item.index(after: eq)...])
            try YAMLBounds.check(valueText, name: "--set \(item)")
            let value = try ConfigValue(yaml: (try? Yams.load(yaml: valueText)) as Any? ?? valueText, at: "--set \(item)")
            var root = ConfigValue.object(tree)
            do {
                try root.set(path, from: 0, to: value, expand: longForm)
            } catch let e as OptionError {
                throw TrainingError("--set \(item): \(e.description)")
            }
            if case .object(let o) = root { tree = o }
            written.append((path, item))
        }
        return written
    }

    /// What a path walks into, in the form it can be indexed and keyed: objectives written as
    /// names become `{name: …}` entries; a section not written yet is its default.
    static func longForm(_ at: ConfigPath, _ value: ConfigValue) throws -> ConfigValue? {
        let defaults = ExperimentConfig().tree
        switch (at.steps.first, at.steps.count, value) {
        case (.key("objectives")?, 1, .null):
            return defaults["objectives"]
        case (.key("objectives")?, 1, .string), (.key("objectives")?, 1, .array):
            guard let list = try? objectives(value) else { return nil }
            return .array(list.map(\.tree))
        case (.key("objectives")?, 2, .string(let s)), (.key("balancer")?, 1, .string(let s)), (.key("step")?, 1, .string(let s)):
            return .object(["name": .string(s)])
        case (.key("model")?, 2, .string(let s)) where at.steps.last == .key("pretrained"):
            return .object(["file": .string(s)])
        default:
            return nil
        }
    }

    init(tree: [String: ConfigValue], name: String, requireDataset: Bool = true,
         locate: ((String) -> String)? = nil) throws {
        do {
            try self.init(checking: tree, requireDataset: requireDataset)
        } catch let e as OptionError {
            throw TrainingError("\(locate?(e.key) ?? name): \(e.description)")
        }
    }

    /// Reads every section; mistakes are `OptionError`s naming the key path.
    private init(checking tree: [String: ConfigValue], requireDataset: Bool) throws {
        self.init()
        let top = Options(tree, for: "configuration", path: nil)
        func section(_ key: String) throws -> Options? {
            guard top.has(key) else { return nil }
            guard case .object(let o) = top.values[key]! else { throw Self.kindError(key, "a mapping", top.values[key]!) }
            return Options(o, for: key, path: key)
        }
        if let d = try section("data") {
            data.dataset = try d.string("dataset", default: data.dataset)
            data.fold = try d.int("fold", default: data.fold, requirement: "≥ 0") { $0 >= 0 }
            data.folds = try d.int("folds", default: data.folds, requirement: "≥ 2") { $0 >= 2 }
            data.splits = d.has("splits") ? try d.string("splits", default: "") : nil
            data.patchSize = try d.ints("patchSize", default: data.patchSize, requirement: "a list of positive sizes") { $0 > 0 }
            data.batchSize = try d.int("batchSize", default: data.batchSize, requirement: "≥ 1") { $0 >= 1 }
            data.preset = try d.string("preset", default: data.preset, allowed: AugmentationPreset.names)
            data.normalization = try d.string("normalization", default: data.normalization)
            data.workers = try d.int("workers", default: data.workers, requirement: "from 0 to 64") { (0...64).contains($0) }
            data.foregroundOversampling = try d.double("foregroundOversampling", default: data.foregroundOversampling,
                                                       requirement: "in [0, 1]") { (0...1).contains($0) }
            data.preprocessed = d.has("preprocessed") ? try d.string("preprocessed", default: "") : nil
            data.cache = try d.string("cache", default: data.cache, allowed: ["auto", "memory", "none"])
            data.parity = try d.bool("parity", default: data.parity)
            if let h = try Self.mapping(d, "heatmap", in: "data") {
                data.heatmap.sigma = try h.double("sigma", default: data.heatmap.sigma, requirement: "> 0") { $0 > 0 }
                data.heatmap.scale = try h.double("scale", default: data.heatmap.scale, requirement: "> 0") { $0 > 0 }
                data.heatmap.normalization = try h.string("normalization", default: data.heatmap.normalization,
                                                          allowed: ["landmark", "batch", "none"])
                try h.finish()
            }
            try d.finish()
        }
        if let e = try section("evaluation") {
            evaluation.sdrRadii = try e.doubles("sdrRadii", requirement: "a list of radii > 0 (mm)") { $0 > 0 } ?? evaluation.sdrRadii
            if let l = try Self.mapping(e, "landmarks", in: "evaluation") {
                evaluation.landmarkExtraction = try l.string("extraction", default: evaluation.landmarkExtraction,
                                                            allowed: ["argmax", "softargmax", "quadratic"])
                evaluation.landmarkWindow = try l.int("window", default: evaluation.landmarkWindow, requirement: "an integer from 1 to 16") { (1...16).contains($0) }
                try l.finish()
            }
            try e.finish()
        }
        if let m = try section("model") {
            model.name = try m.string("name", default: model.name)
            if let o = try Self.mapping(m, "options", in: "model") { model.options = o.values }
            if m.has("pretrained") { model.pretrained = try Self.pretrained(m.values["pretrained"]!) }
            try m.finish()
        }
        if top.has("objectives") {
            objectives = try Self.expanded(Self.objectives(top.values["objectives"]!))
        }
        if let o = try section("optimizer") {
            optimizer.name = try o.string("name", default: optimizer.name, allowed: OptimizerRegistry.names)
            optimizer.learningRate = try o.double("learningRate", default: optimizer.learningRate, requirement: "> 0") { $0 > 0 }
            optimizer.weightDecay = try o.double("weightDecay", default: optimizer.weightDecay, requirement: "≥ 0") { $0 >= 0 }
            optimizer.momentum = try o.double("momentum", default: optimizer.momentum, requirement: "in [0, 1)") { $0 >= 0 && $0 < 1 }
            optimizer.nesterov = try o.bool("nesterov", default: optimizer.nesterov)
            optimizer.schedule = try o.string("schedule", default: optimizer.schedule, allowed: ["constant", "poly", "cosine", "step", "plateau"])
            optimizer.warmupIterations = try o.int("warmupIterations", default: 0, requirement: "≥ 0") { $0 >= 0 }
            optimizer.gradientClip = try o.double("gradientClip", default: optimizer.gradientClip, requirement: "≥ 0") { $0 >= 0 }
            if o.has("groups") {
                guard case .array(let items) = o.values["groups"]! else {
                    throw Self.kindError("optimizer.groups", "a list of {keys, learningRate, weightDecay}", o.values["groups"]!)
                }
                optimizer.groups = try items.enumerated().map { i, item in
                    let at = "optimizer.groups[\(i)]"
                    guard case .object(let g) = item else { throw Self.kindError(at, "a mapping {keys, learningRate, weightDecay}", item) }
                    let r = Options(g, for: at, path: at)
                    let keys = try Self.strings(r, "keys", in: at)
                    guard !keys.isEmpty else { throw OptionError(key: "\(at).keys", "\(at).keys is required (patterns such as \"encoder.*\")") }
                    let lr = try r.optionalDouble("learningRate", requirement: "> 0") { $0 > 0 }
                    let wd = try r.optionalDouble("weightDecay", requirement: "≥ 0") { $0 >= 0 }
                    try r.finish()
                    return Group(keys: keys, learningRate: lr, weightDecay: wd)
                }
            }
            if let p = try Self.mapping(o, "plateau", in: "optimizer") {
                optimizer.plateau.metric = p.has("metric") ? try p.string("metric", default: "") : nil
                optimizer.plateau.patience = try p.int("patience", default: optimizer.plateau.patience, requirement: "≥ 0") { $0 >= 0 }
                optimizer.plateau.factor = try p.double("factor", default: optimizer.plateau.factor, requirement: "in (0, 1)") { $0 > 0 && $0 < 1 }
                optimizer.plateau.threshold = try p.double("threshold", default: optimizer.plateau.threshold, requirement: "≥ 0") { $0 >= 0 }
                optimizer.plateau.cooldown = try p.int("cooldown", default: optimizer.plateau.cooldown, requirement: "≥ 0") { $0 >= 0 }
                optimizer.plateau.minLearningRate = try p.double("minLearningRate", default: 0, requirement: "≥ 0") { $0 >= 0 }
                try p.finish()
            }
            if let opt = try Self.mapping(o, "options", in: "optimizer") { optimizer.options = opt.values }
            try o.finish()
        }
        if let r = try section("run") {
            run.epochs = try r.int("epochs", default: run.epochs, requirement: "≥ 1") { $0 >= 1 }
            run.iterationsPerEpoch = try r.int("iterationsPerEpoch", default: run.iterationsPerEpoch, requirement: "≥ 1") { $0 >= 1 }
            run.validationInterval = try r.int("validationInterval", default: run.validationInterval, requirement: "≥ 1") { $0 >= 1 }
            run.bestMetric = try r.string("bestMetric", default: run.bestMetric, allowed: MetricCatalog.selectableNames)
            run.seed = UInt64(try r.int("seed", default: Int(run.seed), requirement: "≥ 0") { $0 >= 0 })
            run.device = try r.string("device", default: run.device)
            run.threads = try r.int("threads", default: run.threads, requirement: "≥ 0") { $0 >= 0 }
            run.mixedPrecision = try r.string("mixedPrecision", default: run.mixedPrecision, allowed: ["auto", "off", "bf16"])
            run.maxNonFinite = try r.int("maxNonFinite", default: run.maxNonFinite, requirement: "≥ 1") { $0 >= 1 }
            run.output = try r.string("output", default: run.output)
            run.tensorboard = try r.bool("tensorboard", default: run.tensorboard)
            run.overlapAllReduce = try r.bool("overlapAllReduce", default: run.overlapAllReduce)
            if let e = try Self.mapping(r, "earlyStopping", in: "run") {
                let metric = e.has("metric") ? try e.string("metric", default: "") : nil
                let patience = try e.int("patience", default: 10, requirement: "≥ 1") { $0 >= 1 }
                try e.finish()
                run.earlyStopping = EarlyStopping(metric: metric, patience: patience)
            }
            try r.finish()
        }
        if top.has("balancer") { balancer = try Self.component(top.values["balancer"]!, key: "balancer") }
        if top.has("step") { step = try Self.component(top.values["step"]!, key: "step") }
        if let i = try section("init") {
            let from = try i.string("from", default: "")
            guard !from.isEmpty else { throw OptionError(key: "init.from", "init.from is required (an earlier stage's name, or a checkpoint or run folder)") }
            var spec = Initialization(from: from)
            if i.has("keys") { spec.keys = try Self.strings(i, "keys", in: "init") }
            spec.buffers = try i.bool("buffers", default: true)
            try i.finish()
            initialization = spec
        }
        if top.has("freeze") { freeze = try Self.strings(top, "freeze", in: nil) }
        if top.has("stages") {
            guard case .array(let items) = top.values["stages"]!, !items.isEmpty else {
                throw Self.kindError("stages", "a non-empty list of {name, model, objectives, optimizer, run, balancer, step, init, freeze}", top.values["stages"]!)
            }
            stages = try Self.stages(items)
            if initialization != nil || !freeze.isEmpty {
                throw OptionError(key: initialization != nil ? "init" : "freeze", "with stages, put 'init' and 'freeze' inside the stage they apply to")
            }
        }
        let unknown = tree.keys.filter { !["data", "evaluation", "model", "objectives", "optimizer", "run", "balancer", "step", "init", "freeze", "stages"].contains($0) }.sorted()
        if let bad = unknown.first {
            throw OptionError(key: bad, "unknown section\(unknown.count > 1 ? "s" : "") \(unknown.map { "'\($0)'" }.joined(separator: ", ")); "
                              + "known: balancer, data, evaluation, freeze, init, model, objectives, optimizer, run, stages, step")
        }
        if requireDataset && data.dataset.isEmpty { throw OptionError(key: "data.dataset", "data.dataset is required (the dataset folder)") }
    }

    /// `key must be WHAT, got …` for a value of the wrong kind.
    static func kindError(_ key: String, _ what: String, _ got: ConfigValue) -> OptionError {
        OptionError(key: key, "\(key) must be \(what), got \(got.phrase)")
    }

    /// Keys a stage may change; `data` too, except `data.dataset` (one run, one dataset).
    static let stageKeys: Set<String> = ["name", "data", "model", "objectives", "optimizer", "run", "balancer", "step", "init", "freeze"]

    static func stages(_ items: [ConfigValue]) throws -> [Stage] {
        var seen: Set<String> = []
        return try items.enumerated().map { i, item in
            let at = "stages[\(i)]"
            guard case .object(var o) = item else { throw kindError(at, "a mapping", item) }
            guard case .string(let stageName)? = o["name"], !stageName.isEmpty else {
                throw OptionError(key: "\(at).name", "\(at).name is required (a short identifier)")
            }
            guard stageName.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }), !["latest", "best"].contains(stageName) else {
                throw OptionError(key: "\(at).name", "\(at).name '\(stageName)' must use letters, digits, - or _ and not be latest/best")
            }
            guard seen.insert(stageName).inserted else { throw OptionError(key: "\(at).name", "two stages are named '\(stageName)'") }
            if let bad = o.keys.sorted().first(where: { !stageKeys.contains($0) }) {
                throw OptionError(key: "\(at).\(bad)", "\(at) ('\(stageName)') has unknown key '\(bad)'; allowed: \(stageKeys.sorted().joined(separator: ", "))")
            }
            if case .object(let r)? = o["run"], r["output"] != nil {
                throw OptionError(key: "\(at).run.output", "\(at).run.output: every stage writes into the run's folder; set run.output at the top")
            }
            if case .object(let d)? = o["data"], d["dataset"] != nil {
                throw OptionError(key: "\(at).data.dataset", "\(at).data.dataset: a run has one dataset; set data.dataset at the top")
            }
            o["name"] = nil
            return Stage(name: stageName, overrides: o)
        }
    }

    /// One configuration per stage (a plain configuration is one stage named `main`), each with
    /// the top-level sections updated by what the stage sets (mappings key by key, lists whole).
    public func stageConfigs() throws -> [(name: String, config: ExperimentConfig)] {
        guard !stages.isEmpty else { return [("main", self)] }
        var base = tree
        base["stages"] = nil
        return try stages.map { stage in
            var t = base
            for (key, value) in stage.overrides {
                if case .object(let over) = value, case .object(var current)? = t[key] {
                    for (k, v) in over { current[k] = v }
                    t[key] = .object(current)
                } else {
                    t[key] = value
                }
            }
            return (stage.name, try ExperimentConfig(tree: t, name: "stage '\(stage.name)'"))
        }
    }

    static func mapping(_ o: Options, _ key: String, in owner: String) throws -> Options? {
        guard o.has(key) else { return nil }
        guard case .object(let m) = o.values[key]! else { throw kindError("\(owner).\(key)", "a mapping", o.values[key]!) }
        return Options(m, for: "\(owner).\(key)", path: "\(owner).\(key)")
    }

    /// A string or a list of strings.
    static func strings(_ o: Options, _ key: String, in owner: String?) throws -> [String] {
        _ = o.has(key)
        let at = owner.map { "\($0).\(key)" } ?? key
        switch o.values[key] {
        case .string(let s)?: return [s]
        case .array(let a)?:
            return try a.enumerated().map { i, v -> String in
                guard case .string(let s) = v else { throw kindError("\(at)[\(i)]", "a string", v) }
                return s
            }
        case nil: return []
        case let v?: throw kindError(at, "a string or a list of strings", v)
        }
    }

    /// `pretrained: FILE` or `pretrained: {file: FILE, prefix: "encoder."}`.
    static func pretrained(_ value: ConfigValue) throws -> Pretrained {
        let key = "model.pretrained"
        switch value {
        case .string(let s) where !s.isEmpty: return Pretrained(file: s)
        case .object(let o):
            let r = Options(o, for: key, path: key)
            let file = try r.string("file", default: "")
            guard !file.isEmpty else { throw OptionError(key: "\(key).file", "\(key).file is required (a .safetensors or .pth file)") }
            let prefix = try r.string("prefix", default: "")
            try r.finish()
            return Pretrained(file: file, prefix: prefix)
        default: throw kindError(key, "a weight file path or {file, prefix}", value)
        }
    }

    static func component(_ value: ConfigValue, key: String) throws -> Component {
        switch value {
        case .string(let s): return Component(name: s)
        case .object(let o):
            let r = Options(o, for: key, path: key)
            let name = try r.string("name", default: "")
            guard !name.isEmpty else { throw OptionError(key: "\(key).name", "\(key).name is required") }
            let options = try mapping(r, "options", in: key)?.values ?? [:]
            try r.finish()
            return Component(name: name, options: options)
        default: throw kindError(key, "a name or {name, options}", value)
        }
    }

    static func objectives(_ value: ConfigValue) throws -> [Objective] {
        let items: [ConfigValue]
        switch value {
        case .array(let a): items = a
        // Shorthand: "cedice", or several names separated by commas ("ce,dice"); '+' belongs to
        // names such as scnp+cedice.
        case .string(let s): return s.split(separator: ",").map { Objective(name: $0.trimmingCharacters(in: .whitespaces)) }
        default: throw kindError("objectives", "a list of {name, weight, options}", value)
        }
        guard !items.isEmpty else { throw OptionError(key: "objectives", "objectives must not be empty") }
        return try items.enumerated().map { i, item in
            if case .string(let s) = item { return Objective(name: s) }
            let at = "objectives[\(i)]"
            guard case .object(let o) = item else { throw kindError(at, "a name or {name, weight, options}", item) }
            let r = Options(o, for: at, path: at)
            let name = try r.string("name", default: "")
            guard !name.isEmpty else { throw OptionError(key: "\(at).name", "\(at).name is required") }
            let weight = try r.double("weight", default: 1, requirement: "≥ 0") { $0 >= 0 }
            let head = r.has("head") ? try r.string("head", default: "") : nil
            let options = try mapping(r, "options", in: at)?.values ?? [:]
            try r.finish()
            return Objective(name: name, weight: weight, options: options, head: head)
        }
    }

    /// Group names (`hadwiger`) replaced by the objectives they stand for, each with the entry's
    /// weight and head, so everything downstream (balancers, logs, the saved config) sees plain objectives.
    static func expanded(_ list: [Objective]) throws -> [Objective] {
        try list.enumerated().flatMap { i, o in
            try ObjectiveRegistry.expand(o.name, options: o.options, path: "objectives[\(i)].options").map {
                Objective(name: $0.name, weight: o.weight, options: $0.options, head: o.head)
            }
        }
    }

    // MARK: Writing

    public var tree: [String: ConfigValue] {
        func n(_ x: Int) -> ConfigValue { .number(Double(x)) }
        var d: [String: ConfigValue] = [
            "dataset": .string(data.dataset), "fold": n(data.fold), "folds": n(data.folds),
            "patchSize": .array(data.patchSize.map(n)), "batchSize": n(data.batchSize), "preset": .string(data.preset),
            "normalization": .string(data.normalization), "workers": n(data.workers),
            "foregroundOversampling": .number(data.foregroundOversampling), "cache": .string(data.cache), "parity": .bool(data.parity),
        ]
        if let s = data.splits { d["splits"] = .string(s) }
        if let p = data.preprocessed { d["preprocessed"] = .string(p) }
        if data.heatmap != Heatmap() {
            d["heatmap"] = .object(["sigma": .number(data.heatmap.sigma), "scale": .number(data.heatmap.scale),
                                    "normalization": .string(data.heatmap.normalization)])
        }
        var o: [String: ConfigValue] = [
            "name": .string(optimizer.name), "learningRate": .number(optimizer.learningRate),
            "weightDecay": .number(optimizer.weightDecay), "momentum": .number(optimizer.momentum),
            "nesterov": .bool(optimizer.nesterov), "schedule": .string(optimizer.schedule),
            "warmupIterations": n(optimizer.warmupIterations), "gradientClip": .number(optimizer.gradientClip),
            "options": .object(optimizer.options),
        ]
        if !optimizer.groups.isEmpty {
            o["groups"] = .array(optimizer.groups.map { g in
                var x: [String: ConfigValue] = ["keys": .array(g.keys.map(ConfigValue.string))]
                if let lr = g.learningRate { x["learningRate"] = .number(lr) }
                if let wd = g.weightDecay { x["weightDecay"] = .number(wd) }
                return .object(x)
            })
        }
        if optimizer.plateau != Plateau() {
            let p = optimizer.plateau
            var x: [String: ConfigValue] = ["patience": n(p.patience), "factor": .number(p.factor), "threshold": .number(p.threshold),
                                            "cooldown": n(p.cooldown), "minLearningRate": .number(p.minLearningRate)]
            if let m = p.metric { x["metric"] = .string(m) }
            o["plateau"] = .object(x)
        }
        var r: [String: ConfigValue] = [
            "epochs": n(run.epochs), "iterationsPerEpoch": n(run.iterationsPerEpoch),
            "validationInterval": n(run.validationInterval), "bestMetric": .string(run.bestMetric),
            "seed": .number(Double(run.seed)), "device": .string(run.device), "threads": n(run.threads),
            "maxNonFinite": n(run.maxNonFinite), "output": .string(run.output), "mixedPrecision": .string(run.mixedPrecision),
        ]
        r["tensorboard"] = .bool(run.tensorboard)
        r["overlapAllReduce"] = .bool(run.overlapAllReduce)
        if let e = run.earlyStopping {
            var x: [String: ConfigValue] = ["patience": n(e.patience)]
            if let m = e.metric { x["metric"] = .string(m) }
            r["earlyStopping"] = .object(x)
        }
        var t: [String: ConfigValue] = [
            "data": .object(d),
            "model": .object(model.tree),
            "objectives": .array(objectives.map(\.tree)),
            "optimizer": .object(o),
            "run": .object(r),
        ]
        // Written only when set, so configurations saved before they existed read back equal.
        if balancer != Component(name: "sum") { t["balancer"] = .object(["name": .string(balancer.name), "options": .object(balancer.options)]) }
        if evaluation != EvaluationSettings() {
            t["evaluation"] = .object(["sdrRadii": .array(evaluation.sdrRadii.map(ConfigValue.number)),
                                       "landmarks": .object(["extraction": .string(evaluation.landmarkExtraction), "window": n(evaluation.landmarkWindow)])])
        }
        if step != Component(name: "default") { t["step"] = .object(["name": .string(step.name), "options": .object(step.options)]) }
        if let i = initialization {
            t["init"] = .object(["from": .string(i.from), "keys": .array(i.keys.map(ConfigValue.string)), "buffers": .bool(i.buffers)])
        }
        if !freeze.isEmpty { t["freeze"] = .array(freeze.map(ConfigValue.string)) }
        if !stages.isEmpty {
            t["stages"] = .array(stages.map { st in
                var x = st.overrides
                x["name"] = .string(st.name)
                return .object(x)
            })
        }
        return t
    }

    /// The resolved configuration as YAML, read back to the same values by `load` and by
    /// YAML 1.1 readers such as PyYAML (floats always have a dot: `0.01`, `3.0e-05`).
    public func yaml() throws -> String {
        try ConfigYAML.text(tree)
    }
}

extension ExperimentConfig.Model {
    /// As written in a configuration; `pretrained` only when set.
    var tree: [String: ConfigValue] {
        var x: [String: ConfigValue] = ["name": .string(name), "options": .object(options)]
        if let p = pretrained { x["pretrained"] = .object(["file": .string(p.file), "prefix": .string(p.prefix)]) }
        return x
    }
}

extension ExperimentConfig.Objective {
    /// As written in a configuration.
    var tree: ConfigValue {
        var x: [String: ConfigValue] = ["name": .string(name), "weight": .number(weight), "options": .object(options)]
        if let h = head { x["head"] = .string(h) }
        return .object(x)
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
}

public struct TrainingError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
