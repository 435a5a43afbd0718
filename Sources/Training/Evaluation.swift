import Foundation
import Imaging
import Metrics
import Torch

/// How cases are scored; the same defaults for validation during training and `contour evaluate`.
public struct EvaluationPolicy: Sendable, Equatable {
    /// Betti errors and clDice, at any image size; off saves time on large 3D volumes.
    public var topology: Bool
    /// Test-time augmentation: average the prediction over all mirrorings.
    public var mirror: Bool
    /// BFScore tolerance in physical units; nil is 0.75 % of the image diagonal.
    public var boundaryTolerance: Double?

    /// ConDSeg's per-image conventions (1e-15 smoothing; `SmoothedOverlap`).
    public var condsegConventions: Bool

    public init(topology: Bool = true, mirror: Bool = false, boundaryTolerance: Double? = nil, condsegConventions: Bool = false) {
        self.topology = topology
        self.mirror = mirror
        self.boundaryTolerance = boundaryTolerance
        self.condsegConventions = condsegConventions
    }

    /// The Metrics layer's options for an image with `spacing`.
    public func options(spacing: [Double]) -> CaseMetricsOptions {
        var options = CaseMetricsOptions()
        options.spacing = spacing
        options.topology = topology
        options.boundaryTolerance = boundaryTolerance
        options.condsegConventions = condsegConventions
        return options
    }
}

/// Predicts labelled cases with a trained model and scores them with the Metrics layer.
public enum Evaluation {
    public struct Case: Sendable, Equatable {
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
    /// labelsTs) or `all` (every labelled training case). `val` is the split saved in `run`
    /// (`splits.json`), with a warning through `warn` when the dataset's cases changed since;
    /// without one it is recomputed from the dataset as it is now, with a warning saying so.
    public static func cases(split: String, dataset: Dataset, state: TrainingState, run: String? = nil,
                             warn: (String) -> Void = RunWarnings.emit) throws -> [Case] {
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
            let ids = dataset.training.map(\.id)
            let chosen: Split
            if let run, let saved = try RunFolder.savedSplit(run, fold: config.data.fold) {
                chosen = saved
                if let w = RunWarnings.splitDrift(saved, ids: ids, file: RunFolder.splitsPath(run)) { warn(w) }
            } else {
                if config.data.splits == nil {
                    warn("warning: \(run.map { "\($0) has no \(RunFolder.splitsName)" } ?? "the checkpoint is not inside a run folder"); "
                         + "the validation cases are recomputed from \(dataset.root)/imagesTr as it is now, which differs if cases were added or removed")
                }
                chosen = try Experiment.split(config: config, ids: ids)
            }
            let val = Set(chosen.val)
            return cases(of: dataset.training.filter { val.contains($0.id) })
        case "all":
            return cases(of: dataset.training)
        default:
            throw TrainingError("unknown split '\(split)': expected val, test or all")
        }
    }

    /// The labelled cases among `cases` (training validation, or a split of a dataset).
    public static func cases(of cases: [DatasetCase]) -> [Case] {
        cases.compactMap { c in c.labelPath.map { Case(id: c.id, images: c, labelPath: $0) } }
    }

    /// Predicts every case and scores each foreground label with the image's spacing. The one
    /// path for validation during training and `contour evaluate`, so their numbers agree.
    public static func evaluate(_ predictor: Predictor, cases: [Case], labels: [Int],
                                policy: EvaluationPolicy = EvaluationPolicy(), progress: Progress? = nil) throws -> [CaseMetricsRow] {
        var rows: [CaseMetricsRow] = []
        for (i, c) in cases.enumerated() {
            let volume = try Dataset.loadImage(c.images)
            let (_, pred) = try predictor.predict(volume, mirror: policy.mirror)
            let truth = try ImageFile.readLabels(c.labelPath).labels
            rows += try CaseMetrics.evaluate(caseName: c.id, prediction: pred, truth: truth, labels: labels,
                                             options: policy.options(spacing: volume.spacing))
            progress?.update(i + 1, c.id)
        }
        return rows
    }

    /// Each metric's foreground mean (the mean over labels of each label's mean over cases, NaN
    /// skipped), so a label with few cases weighs as much as one with many; with one label it is
    /// the mean over cases. Metrics with no defined value (e.g. topology switched off) are absent.
    public static func means(_ rows: [CaseMetricsRow]) -> [String: Double] {
        var means: [String: Double] = [:]
        for (name, mean) in LabelSummary.foregroundMean(LabelSummary.perLabel(rows)) where !mean.isNaN { means[name] = mean }
        return means
    }

    /// `metrics.csv` (one row per case and label, with the label's name) and `summary.json`
    /// (per-label summaries and the foreground mean) in `folder`.
    /// `columns` are summary.json's (the fixed schema by default).
    public static func write(_ rows: [CaseMetricsRow], to folder: String, names: LabelNames = LabelNames(),
                             columns: [String] = MetricsReport.jsonColumns) throws {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try AtomicFile.write(Array(MetricsReport.csv(rows, names: names).utf8), to: "\(folder)/metrics.csv")
        try AtomicFile.write(Array(MetricsReport.json(rows, names: names, columns: columns).utf8), to: "\(folder)/summary.json")
    }
}
