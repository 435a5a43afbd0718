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
        abstract: "Predict and score a dataset's validation, test or all cases; per-case CSV and JSON summary.",
        discussion: """
        --nproc-per-node N (or torchrun/SLURM variables) splits the cases over N workers: worker r \
        scores cases r, r + N, …, and rank 0 gathers the rows and writes the same files as one process.
        """)

    @Option(help: "Checkpoint folder, or a run folder (uses its best checkpoint).") var checkpoint: String
    @Option(help: "Dataset folder.") var dataset: String
    @Option(help: "val (the run's validation fold), test (imagesTs with labelsTs), or all (every training case).") var split = "val"
    @Option(help: "Folder for metrics.csv and summary.json (default: RUN/evaluation-SPLIT).") var output: String?
    @Flag(help: "Test-time augmentation: average over all mirrorings.") var mirror = false
    @Flag(help: "Skip the topology metrics (Betti errors, clDice): faster on large 3D volumes.") var noTopology = false
    @Option(help: "SDR radii in mm, comma-separated (default: the checkpoint's evaluation.sdrRadii).") var sdrRadii: String?
    @Option(help: "Landmark extraction from heatmaps: argmax, softargmax or quadratic (default: the checkpoint's evaluation.landmarks.extraction).")
    var landmarkExtraction: String?
    @Option(help: "Device: auto, cpu, cuda, cuda:N.") var device = "auto"
    @Flag(help: "ConDSeg's per-image conventions (1e-15 smoothing, so empty masks score instead of NaN); summary.json adds accuracy and f2.")
    var condsegConventions = false
    @OptionGroup var distributed: DistributedOptions

    func run() throws {
        if try distributed.launchWorkers() { return }
        let group = try distributed.join(device: device)
        let isMain = (group?.rank ?? 0) == 0
        let (predictor, state) = try Predictor.load(checkpoint: checkpoint, device: try Device(parsing: device, localRank: group?.localRank))
        let ds = try Dataset.open(dataset)
        let resolved = try Predictor.resolve(checkpoint)
        if isMain { for line in RunWarnings.checkpointMismatch(state, dataset: ds.description, root: dataset) { RunWarnings.emit(line) } }
        let cases = try Evaluation.cases(split: split, dataset: ds, state: state, run: RunFolder.containing(checkpoint: resolved),
                                         warn: isMain ? RunWarnings.emit : { _ in })
        guard !cases.isEmpty else { throw CommandLineError("--dataset \(dataset): no labelled cases in the \(split) split (images in imagesTr/ with labels in labelsTr/ or landmarks in landmarksTr/)") }
        var policy = try Self.policy(state: state, topology: !noTopology, mirror: mirror, sdrRadii: sdrRadii, extraction: landmarkExtraction)
        policy.condsegConventions = condsegConventions
        // Distributed: each rank predicts its share; rank 0 gathers the rows and writes.
        let outcome = try Evaluation.evaluateAll(predictor, cases: cases, labels: ds.description.foregroundLabels,
                                                 landmarkNames: ds.description.landmarkNames, policy: policy,
                                                 progress: Progress(total: Evaluation.share(cases, of: group).count, label: "evaluate", quiet: !isMain),
                                                 distributed: group)
        guard isMain else { return }
        let folder = output ?? URL(fileURLWithPath: resolved).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("evaluation-\(split)").path
        let names = LabelNames(datasetLabels: ds.description.labels)
        var written: [String] = []
        if cases.contains(where: { $0.labelPath != nil }) {
            try Evaluation.write(outcome.rows, to: folder, names: names,
                                 columns: MetricsReport.jsonColumns + (condsegConventions ? MetricsReport.condsegColumns : []))
            let shown = condsegConventions ? ["iou", "dice", "recall", "precision", "accuracy", "f2"] : ["dice", "hd95", "betti0_error", "cldice"]
            for line in MetricsReport.summaryLines(outcome.rows, names: names, metrics: shown) { print(line) }
            written += ["\(folder)/metrics.csv", "\(folder)/summary.json"]
        }
        if !outcome.landmarkRows.isEmpty {
            let scores = LandmarkReport.summary(outcome.landmarkRows, names: ds.description.landmarkNames, radii: policy.sdrRadii)
            try Evaluation.writeLandmarks(outcome.landmarkRows, scores: scores, to: folder)
            for line in LandmarkReport.summaryLines(scores) { print(line) }
            written += ["\(folder)/landmarks.csv", "\(folder)/landmarks.json"]
        }
        guard !written.isEmpty else {
            throw CommandLineError("--dataset \(dataset): nothing to score in the \(split) split: its cases have landmarks only, "
                                   + "and the checkpoint's model has no heatmap head")
        }
        print("wrote " + written.joined(separator: ", "))
    }

    /// The checkpoint's evaluation settings with the command line's overrides.
    static func policy(state: TrainingState, topology: Bool, mirror: Bool, sdrRadii: String?, extraction: String?) throws -> EvaluationPolicy {
        var policy = try EvaluationPolicy(checkpoint: state, topology: topology, mirror: mirror)
        if let text = sdrRadii {
            let radii = text.split(separator: ",").map { Double($0.trimmingCharacters(in: .whitespaces)) }
            guard !radii.isEmpty, radii.allSatisfy({ ($0 ?? 0) > 0 }) else {
                throw CommandLineError("--sdr-radii \(text): expected radii in mm > 0, comma-separated, such as 2,4")
            }
            policy.sdrRadii = radii.map { $0! }
        }
        if let name = extraction {
            guard let method = LandmarkExtraction.Method(rawValue: name) else {
                throw CommandLineError("--landmark-extraction \(name): expected one of \(LandmarkExtraction.Method.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            policy.landmarks.method = method
        }
        return policy
    }
}
