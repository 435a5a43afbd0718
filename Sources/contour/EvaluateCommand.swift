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
    @Option(help: "Folder for metrics.csv and summary.json (default: CHECKPOINT/../../evaluation-SPLIT).") var output: String?
    @Flag(help: "Test-time augmentation: average over all mirrorings.") var mirror = false
    @Option(help: "Device: auto, cpu, cuda, cuda:N.") var device = "auto"

    func run() throws {
        guard ["val", "test", "all"].contains(split) else { throw ValidationError("--split must be val, test or all") }
        let (predictor, state) = try Predictor.load(checkpoint: checkpoint, device: try Device(parsing: device))
        let ds = try Dataset.open(dataset)
        var cases: [(id: String, images: DatasetCase, labels: String)] = []
        switch split {
        case "test":
            for c in ds.test {
                let path = "\(dataset)/labelsTs/\(c.id)\(ds.description.fileEnding)"
                if FileManager.default.fileExists(atPath: path) { cases.append((c.id, c, path)) }
            }
            if cases.isEmpty { throw ValidationError("\(dataset): no test labels (labelsTs/CASE\(ds.description.fileEnding)) to score imagesTs against") }
        case "val":
            var config = ExperimentConfig()
            if case .object(let data)? = state.config["data"], case .number(let fold)? = data["fold"] { config.data.fold = Int(fold) }
            let ids = ds.training.map(\.id)
            let val: [String]
            if ids.count < 2 * config.data.folds {
                val = Array(ids.suffix(Swift.max(1, ids.count / 5)))
            } else {
                val = try Splits.kFold(ids, folds: config.data.folds, seed: 12345)[config.data.fold].val
            }
            cases = ds.training.filter { val.contains($0.id) }.compactMap { c in c.labelPath.map { (c.id, c, $0) } }
        default:
            cases = ds.training.compactMap { c in c.labelPath.map { (c.id, c, $0) } }
        }
        let progress = Progress(total: cases.count, label: "evaluate", quiet: false)
        var rows: [CaseMetricsRow] = []
        for (i, c) in cases.enumerated() {
            let volume = try Dataset.loadImage(c.images)
            let (_, pred) = try predictor.predict(volume, mirror: mirror)
            let truth = try ImageFile.readLabels(c.labels).labels
            rows += try CaseMetrics.evaluate(caseName: c.id, prediction: pred, truth: truth, labels: ds.description.foregroundLabels)
            progress.update(i + 1, c.id)
        }
        let resolved = try Predictor.resolve(checkpoint)
        let dir = output ?? URL(fileURLWithPath: resolved).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("evaluation-\(split)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try AtomicFile.write(Array(MetricsReport.csv(rows).utf8), to: "\(dir)/metrics.csv")
        try AtomicFile.write(Array(MetricsReport.json(rows).utf8), to: "\(dir)/summary.json")
        for (name, s) in CaseMetrics.summarize(rows) where ["dice", "hd95", "betti0_error", "cldice"].contains(name) {
            print(String(format: "%@: %.4f ± %.4f (n = %d)", name, s.mean, s.std, s.n))
        }
        print("wrote \(dir)/metrics.csv and \(dir)/summary.json")
    }
}
