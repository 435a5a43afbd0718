import Foundation
import Imaging
import Metrics
import Torch

/// Predicts labelled cases with a trained model and scores them with the Metrics layer.
public enum Evaluation {
    public struct Case {
        public var id: String
        public var images: DatasetCase
        public var labelPath: String
        public init(id: String, images: DatasetCase, labelPath: String) {
            self.id = id
            self.images = images
            self.labelPath = labelPath
        }
    }

    /// The labelled cases of a split: `val` (the run's validation fold), `test` (imagesTs with
    /// labelsTs) or `all` (every labelled training case).
    public static func cases(split: String, dataset: Dataset, state: TrainingState) throws -> [Case] {
        switch split {
        case "test":
            let found = dataset.test.compactMap { c -> Case? in
                let path = "\(dataset.root)/labelsTs/\(c.id)\(dataset.description.fileEnding)"
                return FileManager.default.fileExists(atPath: path) ? Case(id: c.id, images: c, labelPath: path) : nil
            }
            if found.isEmpty {
                throw TrainingError("\(dataset.root): no test labels (labelsTs/CASE\(dataset.description.fileEnding)) to score imagesTs against")
            }
            return found
        case "val":
            var config = try ExperimentConfig(tree: state.config, name: "checkpoint", requireDataset: false)
            config.data.dataset = dataset.root
            let val = Set(try Experiment.split(config: config, ids: dataset.training.map(\.id)).val)
            return dataset.training.filter { val.contains($0.id) }.compactMap { c in c.labelPath.map { Case(id: c.id, images: c, labelPath: $0) } }
        case "all":
            return dataset.training.compactMap { c in c.labelPath.map { Case(id: c.id, images: c, labelPath: $0) } }
        default:
            throw TrainingError("unknown split '\(split)': expected val, test or all")
        }
    }

    /// Metric rows of every case (each foreground label).
    public static func run(_ predictor: Predictor, cases: [Case], labels: [Int], mirror: Bool = false,
                           progress: Progress? = nil) throws -> [CaseMetricsRow] {
        var rows: [CaseMetricsRow] = []
        for (i, c) in cases.enumerated() {
            let volume = try Dataset.loadImage(c.images)
            let (_, pred) = try predictor.predict(volume, mirror: mirror)
            let truth = try ImageFile.readLabels(c.labelPath).labels
            var options = CaseMetricsOptions()
            options.spacing = volume.spacing
            rows += try CaseMetrics.evaluate(caseName: c.id, prediction: pred, truth: truth, labels: labels, options: options)
            progress?.update(i + 1, c.id)
        }
        return rows
    }

    /// `metrics.csv` (one row per case and label) and `summary.json` in `folder`.
    public static func write(_ rows: [CaseMetricsRow], to folder: String) throws {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try AtomicFile.write(Array(MetricsReport.csv(rows).utf8), to: "\(folder)/metrics.csv")
        try AtomicFile.write(Array(MetricsReport.json(rows).utf8), to: "\(folder)/summary.json")
    }
}
