import Foundation
import Metrics
import NeuralNet
import Objectives

/// What `contour compare` runs: variants of a base configuration (each `--vary key=a|b|c`
/// multiplies them; a config's `compare.variants` names them with `--set` lists), each trained
/// for every seed and fold into `OUTPUT/runs/VARIANT/seedS-foldF`. Every variant's configuration
/// is checked before anything runs, so a key that is not a configuration field stops here.
///
/// A base configuration may carry the comparison itself (`contour train` does not take this section;
/// each variant's plain configuration is written to `OUTPUT/configs/VARIANT.yaml`):
/// ```yaml
/// compare: {reference: cedice, seeds: [0, 1], folds: [0, 1], metrics: [dice, hd95],
///           vary: ["objectives=cedice|scnp+cedice"],
///           variants: [{name: k5, set: ["objectives=scnp+cedice", "objectives[0].options.k=5"]}]}
/// ```
public struct ComparisonPlan: Sendable {
    public struct Variant: Sendable, Equatable {
        public var name: String
        /// The `--set` items that make it from the base configuration.
        public var overrides: [String]
        public var config: ExperimentConfig
    }

    public struct Run: Sendable, Equatable {
        public var variant: String
        public var seed: Int
        public var fold: Int
        public var folder: String
    }

    /// The `compare` section of a configuration (every field optional; flags override it).
    public struct Section: Sendable, Equatable {
        public var reference: String?
        public var seeds: [Int]?
        public var folds: [Int]?
        public var metrics: [String]?
        public var vary: [String] = []
        public var variants: [NamedVariant] = []
    }

    /// `compare.variants[i]`: a name and the `--set` items that make it.
    public struct NamedVariant: Sendable, Equatable {
        public var name: String
        public var set: [String]
    }

    public static let defaultMetrics = ["dice", "hd95", "betti0_error", "betti1_error", "cldice"]

    public var output: String
    public var variants: [Variant]
    public var seeds: [Int]
    public var folds: [Int]
    public var reference: String
    public var metrics: [String]

    public var runs: [Run] {
        variants.flatMap { v in seeds.flatMap { s in folds.map { f in
            Run(variant: v.name, seed: s, fold: f, folder: "\(output)/runs/\(v.name)/seed\(s)-fold\(f)")
        } } }
    }

    public func configPath(_ variant: String) -> String { "\(output)/configs/\(variant).yaml" }

    /// The plan for `--config path` with `--vary` items, base `--set` overrides and flags (nil: the
    /// config's `compare` section, else the base configuration's seed and fold).
    public static func make(config path: String, vary: [String], set: [String], seeds: [Int]?, folds: [Int]?,
                            reference: String?, metrics: [String]?, output: String) throws -> ComparisonPlan {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw TrainingError("--config \(path): cannot read the configuration (\(FileManager.default.fileExists(atPath: path) ? "not readable UTF-8 text" : "no such file"))")
        }
        var tree = try ExperimentConfig.parse(yaml: text, name: path)
        let section = try tree.removeValue(forKey: "compare").map { try Self.section($0, file: path) } ?? Section()
        func load(_ overrides: [String]) throws -> ExperimentConfig {
            var t = tree
            let written = try ExperimentConfig.apply(overrides, to: &t)
            let source = ConfigSource(name: path, text: text, overrides: written)
            return try ExperimentConfig(tree: t, name: path, locate: source.locate)
        }
        let base = try load(set)
        let varies = try (section.vary + vary).map(parseVary)
        // Named variants × every combination of the --vary values.
        var combos: [(name: [String], overrides: [String], origin: String)] =
            section.variants.isEmpty ? [([], [], "the base configuration")] : section.variants.map { ([$0.name], $0.set, "compare.variants \($0.name)") }
        for v in varies {
            combos = combos.flatMap { c in v.values.map { value in
                (c.name + [folderName(value)], c.overrides + ["\(v.key)=\(value)"], "--vary \(v.text)")
            } }
        }
        var variants: [Variant] = []
        for c in combos {
            let name = c.name.isEmpty ? "base" : c.name.joined(separator: "_")
            guard !variants.contains(where: { $0.name == name }) else {
                throw TrainingError("\(c.origin): two variants are both named '\(name)'; give distinct values or names")
            }
            let config: ExperimentConfig
            do {
                config = try load(set + c.overrides)
                try checkObjectives(config)
            } catch {
                // The file's name is noise here: the key came from the command line or the compare section.
                var message = "\(error)"
                if message.hasPrefix("\(path): ") { message.removeFirst(path.count + 2) }
                throw TrainingError("\(c.origin) (variant \(name)): \(message)")
            }
            variants.append(Variant(name: name, overrides: c.overrides, config: config))
        }
        let chosenFolds = folds ?? section.folds ?? [base.data.fold]
        if let bad = chosenFolds.first(where: { $0 < 0 || $0 >= base.data.folds }) {
            throw TrainingError("--folds: fold \(bad) does not exist; data.folds is \(base.data.folds) (folds 0 to \(base.data.folds - 1))")
        }
        let chosenSeeds = seeds ?? section.seeds ?? [Int(base.run.seed)]
        if let bad = chosenSeeds.first(where: { $0 < 0 }) { throw TrainingError("--seeds: seed \(bad) must be ≥ 0") }
        guard !chosenSeeds.isEmpty, !chosenFolds.isEmpty else { throw TrainingError("--seeds and --folds need at least one value each") }
        let ref = reference ?? section.reference ?? variants[0].name
        guard variants.contains(where: { $0.name == ref }) else {
            throw TrainingError("--reference \(ref): no such variant; the variants are \(variants.map(\.name).joined(separator: ", "))")
        }
        let chosenMetrics = metrics ?? section.metrics ?? defaultMetrics
        try checkMetrics(chosenMetrics)
        return ComparisonPlan(output: RunFolder.absolute(output), variants: variants, seeds: Array(Set(chosenSeeds)).sorted(),
                              folds: Array(Set(chosenFolds)).sorted(), reference: ref, metrics: chosenMetrics)
    }

    /// A plan over runs that exist: each path is a run folder (its name is the variant) or a
    /// folder of run folders (one variant, e.g. a previous comparison's `runs/NAME`).
    public static func existing(runs paths: [String], reference: String?, metrics: [String]?, output: String) throws -> ComparisonPlan {
        var variants: [Variant] = [], runs: [Run] = []
        for p in paths {
            let path = RunFolder.absolute(p)
            let name = URL(fileURLWithPath: path).lastPathComponent
            var folders: [String]
            if FileManager.default.fileExists(atPath: "\(path)/config.yaml") {
                folders = [path]
            } else {
                let children = ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted()
                folders = children.filter { !$0.contains(".replaced-") }.map { "\(path)/\($0)" }.filter { FileManager.default.fileExists(atPath: "\($0)/config.yaml") }
                guard !folders.isEmpty else {
                    throw TrainingError("--runs \(p): neither a run folder (with config.yaml) nor a folder of run folders")
                }
            }
            guard !variants.contains(where: { $0.name == name }) else {
                throw TrainingError("--runs \(p): a variant named '\(name)' is already given; the folders' names name the variants")
            }
            var config: ExperimentConfig?
            for f in folders {
                let c = try ExperimentConfig.load(path: "\(f)/config.yaml")
                config = config ?? c
                runs.append(Run(variant: name, seed: Int(c.run.seed), fold: c.data.fold, folder: f))
            }
            variants.append(Variant(name: name, overrides: [], config: config!))
        }
        guard variants.count >= 2 else { throw TrainingError("--runs: give at least two runs (or folders of runs) to compare") }
        let ref = reference ?? variants[0].name
        guard variants.contains(where: { $0.name == ref }) else {
            throw TrainingError("--reference \(ref): no such variant; the variants are \(variants.map(\.name).joined(separator: ", "))")
        }
        let chosenMetrics = metrics ?? defaultMetrics
        try checkMetrics(chosenMetrics)
        var plan = ComparisonPlan(output: RunFolder.absolute(output), variants: variants, seeds: Array(Set(runs.map(\.seed))).sorted(),
                                  folds: Array(Set(runs.map(\.fold))).sorted(), reference: ref, metrics: chosenMetrics)
        plan.fixedRuns = runs
        return plan
    }

    /// Runs given by `--runs` (nil: the grid of variants × seeds × folds).
    var fixedRuns: [Run]?
    public var plannedRuns: [Run] { fixedRuns ?? runs }

    /// `key=a|b|c` → the key path and its values.
    static func parseVary(_ text: String) throws -> (text: String, key: String, values: [String]) {
        guard let eq = text.firstIndex(of: "=") else {
            throw TrainingError("--vary \(text): expected key.path=value1|value2, e.g. objectives=cedice|scnp+cedice")
        }
        let key = String(text[..<eq]).trimmingCharacters(in: .whitespaces)
        guard ConfigPath(parsing: key) != nil else {
            throw TrainingError("--vary \(text): '\(key)' is not a key path (expected e.g. objectives or model.name or optimizer.learningRate)")
        }
        let values = text[text.index(after: eq)...].split(separator: "|", omittingEmptySubsequences: false)
            .map { $0.trimmingCharacters(in: .whitespaces) }
        guard !values.contains(where: \.isEmpty), values.count >= 1 else {
            throw TrainingError("--vary \(text): an empty value; separate the values with |, e.g. \(key)=a|b")
        }
        return (text, key, values)
    }

    /// A value as a folder name: path separators and spaces become '-'.
    static func folderName(_ value: String) -> String {
        String(value.map { "/\\ :,\"'[]{}".contains($0) ? "-" : $0 }).trimmingCharacters(in: CharacterSet(charactersIn: "-"))
    }

    /// Builds every variant's experiment of every stage (dataset, split, model with its options,
    /// patch size) as training starts by doing, so a mistyped model option or an impossible patch
    /// size stops the comparison before anything runs.
    /// Every variant's stages build (data, model); with `objectives`, their objectives also fit the
    /// model's heads and the data's targets. A real comparison leaves that to each run, so that one
    /// variant failing does not stop the others; `--dry-run` checks it up front.
    public func checkExperiments(objectives: Bool = false) throws {
        for v in variants {
            do {
                for stage in try v.config.stageConfigs() {
                    let experiment = try Experiment(config: stage.config)
                    if objectives { _ = try experiment.objective() }
                }
            } catch {
                throw TrainingError("variant \(v.name): \(error)")
            }
        }
    }

    /// Objectives exist and accept their options (what training would find first).
    static func checkObjectives(_ config: ExperimentConfig) throws {
        for (i, o) in config.objectives.enumerated() {
            do { _ = try ObjectiveRegistry.make(o.name, options: Options(o.options, for: o.name)) } catch {
                throw TrainingError("objectives[\(i)] (\(o.name)): \(error)")
            }
        }
    }

    static func checkMetrics(_ metrics: [String]) throws {
        guard !metrics.isEmpty else { throw TrainingError("--metrics: name at least one metric") }
        let known = MetricCatalog.selectableNames
        if let bad = metrics.first(where: { !known.contains($0) }) {
            throw TrainingError("--metrics: unknown metric '\(bad)'; known: \(known.joined(separator: ", "))")
        }
    }

    static func section(_ value: ConfigValue, file: String) throws -> Section {
        guard case .object(let o) = value else { throw TrainingError("\(file): compare must be a mapping (reference, seeds, folds, metrics, vary, variants)") }
        let r = Options(o, for: "compare", path: "compare")
        var s = Section()
        do {
            if r.has("reference") { s.reference = try r.string("reference", default: "") }
            if r.has("seeds") { s.seeds = try r.ints("seeds", default: []) }
            if r.has("folds") { s.folds = try r.ints("folds", default: []) }
            if r.has("metrics") { s.metrics = try ExperimentConfig.strings(r, "metrics", in: "compare") }
            if r.has("vary") { s.vary = try ExperimentConfig.strings(r, "vary", in: "compare") }
            if r.has("variants") {
                guard case .array(let items) = r.values["variants"]! else {
                    throw OptionError(key: "compare.variants", "compare.variants must be a list of {name, set: [key=value, …]}")
                }
                s.variants = try items.enumerated().map { i, item in
                    let at = "compare.variants[\(i)]"
                    guard case .object(let m) = item else { throw OptionError(key: at, "\(at) must be {name, set: [key=value, …]}") }
                    let v = Options(m, for: at, path: at)
                    let name = folderName(try v.string("name", default: ""))
                    guard !name.isEmpty else { throw OptionError(key: "\(at).name", "\(at).name is required") }
                    let set = v.has("set") ? try ExperimentConfig.strings(v, "set", in: at) : []
                    try v.finish()
                    return NamedVariant(name: name, set: set)
                }
            }
            try r.finish()
        } catch let e as OptionError {
            throw TrainingError("\(file): \(e.description)")
        }
        return s
    }
}
