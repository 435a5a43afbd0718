import ArgumentParser
import Foundation
import Imaging
import Metrics
import Torch
import Training

/// `contour evaluate`: predict a dataset's cases with a checkpoint and score them.
struct EvaluateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate",
        abstract: "Predict and score a dataset's validation, test or all cases; per-case CSV and JSON summary.")

    @Option(help: "Checkpoint folder, or a run folder (uses its best checkpoint).") var checkpoint: String
    @Option(help: "Dataset folder.") var dataset: String
    @Option(help: "val (the run's validation fold), test (imagesTs with labelsTs), or all (every training case).") var split = "val"
    @Option(help: "Folder for metrics.csv and summary.json (default: RUN/evaluation-SPLIT).") var output: String?
    @Flag(help: "Test-time augmentation: average over all mirrorings.") var mirror = false
    @Flag(help: "Skip the topology metrics (Betti errors, clDice): faster on large 3D volumes.") var noTopology = false
    @Option(help: "Device: auto, cpu, cuda, cuda:N.") var device = "auto"
    @Flag(help: "ConDSeg's per-image conventions (1e-15 smoothing, so empty masks score instead of NaN); summary.json adds accuracy and f2.")
    var condsegConventions = false

    func run() throws {
        let (predictor, state) = try Predictor.load(checkpoint: checkpoint, device: try Device(parsing: device))
        let ds = try Dataset.open(dataset)
        let resolved = try Predictor.resolve(checkpoint)
        for line in RunWarnings.checkpointMismatch(state, dataset: ds.description, root: dataset) { RunWarnings.emit(line) }
        let cases = try Evaluation.cases(split: split, dataset: ds, state: state, run: RunFolder.containing(checkpoint: resolved))
        guard !cases.isEmpty else { throw CommandLineError("--dataset \(dataset): no labelled cases in the \(split) split (images in imagesTr/ with labels in labelsTr/)") }
        let rows = try Evaluation.evaluate(predictor, cases: cases, labels: ds.description.foregroundLabels,
                                           policy: EvaluationPolicy(topology: !noTopology, mirror: mirror, condsegConventions: condsegConventions),
                                           progress: Progress(total: cases.count, label: "evaluate", quiet: false))
        let folder = output ?? URL(fileURLWithPath: resolved).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("evaluation-\(split)").path
        let names = LabelNames(datasetLabels: ds.description.labels)
        try Evaluation.write(rows, to: folder, names: names,
                             columns: MetricsReport.jsonColumns + (condsegConventions ? MetricsReport.condsegColumns : []))
        let shown = condsegConventions ? ["iou", "dice", "recall", "precision", "accuracy", "f2"] : ["dice", "hd95", "betti0_error", "cldice"]
        for line in MetricsReport.summaryLines(rows, names: names, metrics: shown) { print(line) }
        print("wrote \(folder)/metrics.csv and \(folder)/summary.json")
    }
}
