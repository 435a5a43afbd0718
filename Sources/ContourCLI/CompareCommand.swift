import ArgumentParser
import Foundation
import Metrics
import Torch
import Training

/// `contour compare`: trains and evaluates every (variant, seed, fold) of a comparison that is
/// missing, then tests the differences and writes compare.{csv,md,json,html}.
struct CompareCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "Compare methods: train and evaluate variants × seeds × folds, test the differences, write a report.",
        discussion: """
        Variants: each --vary key=a|b|c multiplies them (any configuration field, as --set; e.g. \
        --vary 'objectives=cedice|scnp+cedice' --vary 'model.name=unet2d|unet++'); a configuration's compare \
        section may name variants and hold the seeds, folds, reference and metrics (see README). Every variant's \
        configuration is checked, and its model built, before anything runs. Runs go to OUTPUT/runs/VARIANT/seedS-foldF; finished ones \
        (with evaluation-val/metrics.csv) are kept, interrupted ones resume, so rerunning the command after a kill \
        continues. Or --runs A B C compares runs that exist (a run folder, or a folder of run folders, per variant).

        Statistics over per-case validation metrics (each case's mean over its foreground labels), every case × \
        seed pooled over folds: mean, sd, median, percentile bootstrap CI; Wilcoxon signed-rank test against the \
        reference (exact for ≤ 50 pairs without ties or zeros, else normal with tie correction; fewer than 6 pairs: \
        not applicable), Holm-adjusted over variants × metrics; median difference and rank-biserial; bootstrap rank \
        stability. A variant with a failed run is reported with its error and left out; the others are compared.
        """)

    @Option(help: "Base configuration (YAML or JSON), optionally with a compare section.") var config: String?
    @Option(help: "A field and its values: key.path=value1|value2 (repeatable; variants are all combinations).") var vary: [String] = []
    @Option(help: "Override a field of the base configuration: key.path=value (repeatable).") var set: [String] = []
    @Option(help: "Seeds, comma-separated (default: the compare section's, else run.seed).") var seeds: String?
    @Option(help: "Validation folds, comma-separated (default: the compare section's, else data.fold).") var folds: String?
    @Option(parsing: .upToNextOption, help: "Compare these existing runs instead (run folders or folders of runs).") var runs: [String] = []
    @Option(help: "Folder for runs/, configs/, logs/ and the compare.* files.") var output: String
    @Option(help: "The variant the others are tested against (default: the first).") var reference: String?
    @Option(help: "Metrics, comma-separated (default: dice,hd95,betti0_error,betti1_error,cldice).") var metrics: String?
    @Option(help: "Runs at the same time (subprocesses; the cores are shared between them).") var jobs = 1
    @Option(help: "Data-parallel workers per training run (passed to contour train).") var nprocPerNode: Int?
    @Option(help: "Bootstrap resamples of the confidence intervals.") var resamples = 10_000
    @Option(help: "Seed of the bootstrap.") var bootstrapSeed: UInt64 = 0
    @Flag(help: "Print the planned runs and their state, run nothing.") var dryRun = false
    @Flag(help: "No progress lines.") var quiet = false

    static func integers(_ text: String?, option: String) throws -> [Int]? {
        guard let text else { return nil }
        let items = text.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !items.isEmpty, items.allSatisfy({ $0 != nil }) else {
            throw CommandLineError("\(option) \(text): expected integers separated by commas, such as 0,1,2")
        }
        return items.map { $0! }
    }

    func run() throws {
        guard jobs >= 1 else { throw CommandLineError("--jobs must be ≥ 1, got \(jobs)") }
        guard resamples >= 100 else { throw CommandLineError("--resamples must be ≥ 100, got \(resamples)") }
        let metricList = metrics.map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }
        let plan: ComparisonPlan
        do {
            if !runs.isEmpty {
                guard config == nil, vary.isEmpty, set.isEmpty, seeds == nil, folds == nil else {
                    throw CommandLineError("--runs compares runs that exist; --config, --vary, --set, --seeds and --folds plan new ones: give one or the other")
                }
                plan = try ComparisonPlan.existing(runs: runs, reference: reference, metrics: metricList, output: output)
            } else {
                guard let config else { throw CommandLineError("give --config base.yaml (with --vary) or --runs A B …") }
                plan = try ComparisonPlan.make(config: config, vary: vary, set: set, seeds: try Self.integers(seeds, option: "--seeds"),
                                               folds: try Self.integers(folds, option: "--folds"), reference: reference,
                                               metrics: metricList, output: output)
                guard plan.variants.count >= 2 else {
                    throw CommandLineError("one variant only (\(plan.variants[0].name)): add --vary key=a|b or compare.variants to compare something")
                }
                try plan.checkExperiments(objectives: dryRun)
            }
        } catch let e as TrainingError {
            throw CommandLineError(e.description)
        }
        let training = runs.isEmpty
        if dryRun {
            for r in plan.plannedRuns { print("\(r.variant)\tseed \(r.seed)\tfold \(r.fold)\t\(CompareRunner.state(r.folder).rawValue)\t\(r.folder)") }
            return
        }
        try CommandLineError.makeFolder(plan.output, option: "--output")
        var configs: [(name: String, text: String)] = []
        if training {
            try FileManager.default.createDirectory(atPath: "\(plan.output)/configs", withIntermediateDirectories: true)
            for v in plan.variants {
                let text = try RunFolder.savedConfigText(v.config)
                try text.write(toFile: plan.configPath(v.name), atomically: true, encoding: .utf8)
                configs.append((v.name, text))
            }
        } else {
            for v in plan.variants { configs.append((v.name, (try? v.config.yaml()) ?? "")) }
        }
        let runner = CompareRunner(plan: plan, train: training)
        runner.jobs = jobs
        runner.nprocPerNode = nprocPerNode
        runner.quiet = quiet
        if !quiet {
            FileHandle.standardError.write(Data(("compare: \(plan.variants.count) variants × \(plan.seeds.count) seeds × \(plan.folds.count) folds = "
                                                 + "\(plan.plannedRuns.count) runs into \(plan.output)/runs\n").utf8))
        }
        let outcomes = runner.run()
        var failures = outcomes.compactMap { o in o.error.map { ComparisonReport.Failure(variant: o.run.variant, run: "seed \(o.run.seed) fold \(o.run.fold)", error: $0) } }
        var observations: [ComparisonObservation] = [], curves: [ComparisonReport.Curve] = []
        let failed = Set(failures.map(\.variant))
        for o in outcomes where !failed.contains(o.run.variant) {
            do {
                observations += try ComparisonRunData.observations(run: o.run.folder, variant: o.run.variant, seed: o.run.seed, fold: o.run.fold,
                                                                   metrics: plan.metrics)
            } catch {
                failures.append(ComparisonReport.Failure(variant: o.run.variant, run: "seed \(o.run.seed) fold \(o.run.fold)", error: "\(error)"))
            }
            if let c = ComparisonRunData.curve(run: o.run.folder, variant: o.run.variant) { curves.append(c) }
        }
        let dropped = Set(failures.map(\.variant))
        observations.removeAll { dropped.contains($0.variant) }
        let compared = plan.variants.map(\.name).filter { !dropped.contains($0) }
        let command = (["contour"] + CommandLine.arguments.dropFirst()).map(Self.shellQuoted).joined(separator: " ")
        guard let firstCompared = compared.first else {
            try writeFailuresOnly(failures, plan: plan)
            throw CommandLineError("every variant failed; see \(plan.output)/compare.md and the logs in \(plan.output)/logs")
        }
        var referenceName = plan.reference
        if dropped.contains(referenceName) {
            referenceName = firstCompared
            FileHandle.standardError.write(Data("warning: the reference \(plan.reference) failed; testing against \(referenceName) instead\n".utf8))
        }
        let present = plan.metrics.filter { m in observations.contains { $0.metric == m } }
        let comparison: Comparison
        do {
            comparison = try Comparison.analyse(observations, variants: compared, reference: referenceName, metrics: present,
                                                resamples: resamples, seed: bootstrapSeed)
        } catch {
            throw CommandLineError("\(error)")
        }
        let out = plan.output
        try AtomicFile.write(Array(ComparisonReport.csv(observations).utf8), to: "\(out)/compare.csv")
        try AtomicFile.write(Array(ComparisonReport.markdown(comparison, failures: failures, seeds: plan.seeds, folds: plan.folds).utf8), to: "\(out)/compare.md")
        try AtomicFile.write(Array(try ComparisonReport.json(comparison, failures: failures, seeds: plan.seeds, folds: plan.folds, command: command).utf8),
                             to: "\(out)/compare.json")
        let html = ComparisonReport.html(comparison, observations: observations, failures: failures, curves: curves, command: command,
                                         configs: configs, seeds: plan.seeds, folds: plan.folds)
        try AtomicFile.write(Array(html.utf8), to: "\(out)/compare.html")
        print(ComparisonReport.markdown(comparison, failures: failures, seeds: plan.seeds, folds: plan.folds)
            .split(separator: "\n", omittingEmptySubsequences: false).prefix(while: { !$0.hasPrefix("**") }).joined(separator: "\n")
            .trimmingCharacters(in: .whitespacesAndNewlines))
        print("wrote \(out)/compare.html, compare.md, compare.csv, compare.json")
        if !failures.isEmpty {
            throw CommandLineError("\(Set(failures.map(\.variant)).count) variant(s) failed and are left out (\(Set(failures.map(\.variant)).sorted().joined(separator: ", "))); "
                                   + "their errors are in compare.md and compare.html; rerun the command to retry them")
        }
    }

    func writeFailuresOnly(_ failures: [ComparisonReport.Failure], plan: ComparisonPlan) throws {
        let text = "Every variant failed:\n\n" + failures.map { "- \($0.variant) (\($0.run)): \($0.error)" }.joined(separator: "\n") + "\n"
        try AtomicFile.write(Array(text.utf8), to: "\(plan.output)/compare.md")
    }

    static func shellQuoted(_ s: String) -> String {
        s.allSatisfy({ $0.isLetter || $0.isNumber || "-_./=,:+".contains($0) }) && !s.isEmpty ? s : "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}
