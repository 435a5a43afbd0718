import ArgumentParser
import Foundation
import Imaging
import Metrics
import Torch
import Training

/// `contour demo`: the whole pipeline on built-in data — generate the tubular demo dataset if
/// absent, train a 2D U-Net with CE + Dice, evaluate on the held-out test cases, write the report.
struct Demo: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Generate demo data, train a 2D U-Net (CE + Dice, CPU) and evaluate it on held-out cases.",
        discussion: "The configuration is printed by --print-config; save it, edit it, and run it with `contour train --config FILE`.")

    static let config = """
    # contour demo: a 2D U-Net with CE + Dice on the tubular demo data (vessel-like curves).
    data:
      dataset: demo-data/tubular
      patchSize: [128, 128]
      batchSize: 4
      preset: nnunet-default
      normalization: zscore
      workers: 2
    model:
      name: unet2d
      options: {stages: 4, baseWidth: 16}
    objectives:
      - {name: cedice, weight: 1}
    optimizer:
      name: adamw
      learningRate: 0.003
      weightDecay: 0.0001
      schedule: poly
      gradientClip: 12
    run:
      epochs: 20
      iterationsPerEpoch: 30
      validationInterval: 4
      bestMetric: dice
      seed: 0
      device: auto
      output: runs/demo

    """

    @Option(help: "Where the demo dataset is (generated if absent).") var data = "demo-data/tubular"
    @Option(help: "Run folder.") var output = "runs/demo"
    @Option(help: "Override a configuration field: key.path=value (repeatable).") var set: [String] = []
    @Flag(help: "Print the demo configuration (YAML) and exit.") var printConfig = false
    @Flag(help: "Only print the final results.") var quiet = false

    func run() throws {
        if printConfig { print(Self.config, terminator: ""); return }
        if !FileManager.default.fileExists(atPath: "\(data)/dataset.json") {
            if !quiet { FileHandle.standardError.write(Data("generating the tubular demo dataset in \(data) …\n".utf8)) }
            try DemoData.write(kind: .tubular, to: data, trainCount: 40, testCount: 10, seed: 0)
        }
        let config = try ExperimentConfig.load(yaml: Self.config, name: "demo configuration",
                                               overrides: ["data.dataset=\(data)", "run.output=\(output)"] + set)
        let started = Date()
        let summary = try Trainer(config: config, quiet: quiet).train(overwrite: true)   // a rerun moves the last demo run aside
        let trainSeconds = Date().timeIntervalSince(started)

        let (predictor, state) = try Predictor.load(checkpoint: output)
        let dataset = try Dataset.open(data)
        let cases = try Evaluation.cases(split: "test", dataset: dataset, state: state)
        let rows = try Evaluation.evaluate(predictor, cases: cases, labels: dataset.description.foregroundLabels,
                                           progress: Progress(total: cases.count, label: "test", quiet: quiet))
        let names = LabelNames(datasetLabels: dataset.description.labels)
        try Evaluation.write(rows, to: "\(output)/evaluation-test", names: names)
        print(String(format: "trained in %.0f s (%d epochs, best validation Dice %.4f at epoch %d)", trainSeconds, config.run.epochs,
                     summary.bestValue ?? .nan, summary.bestEpoch ?? 0))
        if LabelSummary.perLabel(rows).count == 1 {
            let s = Dictionary(uniqueKeysWithValues: CaseMetrics.summarize(rows).map { ($0.name, $0.summary) })
            print(String(format: "held-out test cases (%d, %@): Dice %.4f ± %.4f, HD95 %.2f px, β0 error %.2f, clDice %.4f",
                         cases.count, names.name(of: rows[0].label), s["dice"]?.mean ?? .nan, s["dice"]?.std ?? .nan,
                         s["hd95"]?.mean ?? .nan, s["betti0_error"]?.mean ?? .nan, s["cldice"]?.mean ?? .nan))
        } else {
            print("held-out test cases (\(cases.count)):")
            for line in MetricsReport.summaryLines(rows, names: names) { print("  " + line) }
        }
        print("report: \(output)/report.html; per-case metrics: \(output)/evaluation-test/metrics.csv")
    }
}
