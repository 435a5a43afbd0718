import Foundation
import Geometry
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
    /// SDR radii (mm) for landmark scores.
    public var sdrRadii: [Double]
    /// How predicted heatmaps become landmark coordinates.
    public var landmarks: LandmarkExtraction

    public init(topology: Bool = true, mirror: Bool = false, boundaryTolerance: Double? = nil,
                sdrRadii: [Double] = LandmarkErrors.defaultRadii, landmarks: LandmarkExtraction = LandmarkExtraction(),
                condsegConventions: Bool = false) {
        self.topology = topology
        self.condsegConventions = condsegConventions
        self.mirror = mirror
        self.boundaryTolerance = boundaryTolerance
        self.sdrRadii = sdrRadii
        self.landmarks = landmarks
    }

    /// The `evaluation` section of the configuration a checkpoint was trained with.
    public init(checkpoint state: TrainingState, topology: Bool = true, mirror: Bool = false) throws {
        try self.init(config: try ExperimentConfig(tree: state.config, name: "checkpoint", requireDataset: false), topology: topology, mirror: mirror)
    }

    /// The configuration's `evaluation` section (SDR radii, landmark extraction).
    public init(config: ExperimentConfig, topology: Bool = true, mirror: Bool = false) throws {
        guard let method = LandmarkExtraction.Method(rawValue: config.evaluation.landmarkExtraction) else {
            throw TrainingError("evaluation.landmarks.extraction: unknown method '\(config.evaluation.landmarkExtraction)'")
        }
        self.init(topology: topology, mirror: mirror, sdrRadii: config.evaluation.sdrRadii,
                  landmarks: LandmarkExtraction(method: method, window: config.evaluation.landmarkWindow))
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
    /// A case to score: its images, its label map and/or its landmark file.
    public struct Case: Sendable, Equatable {
        public var id: String
        public var images: DatasetCase
        public var labelPath: String?
        public var landmarkPath: String?
        public init(id: String, images: DatasetCase, labelPath: String?, landmarkPath: String? = nil) {
            self.id = id
            self.images = images
            self.labelPath = labelPath
            self.landmarkPath = landmarkPath
        }
    }

    /// A case's image and label map, as validation reads them.
    public struct Loaded: Sendable {
        public var volume: ImageVolume
        public var truth: Grid<UInt8>?
        /// True landmarks in `volume`'s voxels when they are not the case file's (preprocessed cases).
        public var landmarks: [String: [Double]]?
        public init(volume: ImageVolume, truth: Grid<UInt8>?, landmarks: [String: [Double]]? = nil) {
            self.volume = volume
            self.truth = truth
            self.landmarks = landmarks
        }

        /// From the case's files.
        public init(reading c: Case) throws {
            self.init(volume: try Dataset.loadImage(c.images), truth: try c.labelPath.map { try ImageFile.readLabels($0).labels })
        }
    }

    /// Segmentation rows, landmark rows and each case's predicted landmarks (numpy-order voxels).
    public struct Outcome: Codable {
        public var rows: [CaseMetricsRow] = []
        public var landmarkRows: [LandmarkRow] = []
        public var landmarks: [String: [String: [Double]]] = [:]
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
                let points = "\(dataset.root)/landmarksTs/\(c.id).json"
                let label = FileManager.default.fileExists(atPath: path) ? path : nil
                let landmarks = FileManager.default.fileExists(atPath: points) ? points : nil
                return label != nil || landmarks != nil ? Case(id: c.id, images: c, labelPath: label, landmarkPath: landmarks) : nil
            }
            if found.isEmpty {
                throw TrainingError("\(dataset.root): no test labels (labelsTs/CASE\(dataset.description.fileEnding)) or landmarks "
                                    + "(landmarksTs/CASE.json) to score imagesTs against")
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

    /// The labelled cases among `cases` (training validation, or a split of a dataset): those with
    /// a label map or a landmark file.
    public static func cases(of cases: [DatasetCase]) -> [Case] {
        cases.compactMap { c in
            let points = c.landmarkPath.flatMap { FileManager.default.fileExists(atPath: $0) ? $0 : nil }
            return c.labelPath != nil || points != nil ? Case(id: c.id, images: c, labelPath: c.labelPath, landmarkPath: points) : nil
        }
    }

    /// Predicts every case and scores each foreground label with the image's spacing. The one
    /// path for validation during training and `contour evaluate`, so their numbers agree.
    public static func evaluate(_ predictor: Predictor, cases: [Case], labels: [Int],
                                policy: EvaluationPolicy = EvaluationPolicy(), progress: Progress? = nil) throws -> [CaseMetricsRow] {
        try evaluateAll(predictor, cases: cases, labels: labels, landmarkNames: [], policy: policy, progress: progress).rows
    }

    /// Segmentation metrics for cases with a label map and, for a model with a heatmap head,
    /// landmark errors (mm, with the image's spacing) for cases with a landmark file, from one
    /// prediction per case. Landmarks the ground truth lacks are skipped; one outside the image is
    /// an error naming the case and landmark.
    /// `load` reads a case (default: its files).
    public static func evaluateAll(_ predictor: Predictor, cases: [Case], labels: [Int], landmarkNames: [String],
                                   policy: EvaluationPolicy = EvaluationPolicy(), progress: Progress? = nil,
                                   load: ((Case) throws -> Loaded)? = nil) throws -> Outcome {
        var out = Outcome()
        let scoreLandmarks = predictor.heatmapHead != nil && !landmarkNames.isEmpty
        if scoreLandmarks, let k = predictor.heatmapHead?.channels, k != landmarkNames.count {
            throw TrainingError("the model predicts \(k) landmark heatmaps, the dataset names \(landmarkNames.count) landmarks")
        }
        for (i, c) in cases.enumerated() {
            guard c.labelPath != nil || (scoreLandmarks && c.landmarkPath != nil) else { continue }
            let loaded = try load?(c) ?? Loaded(reading: c)
            let volume = loaded.volume
            let p = try predictor.predictHeads(volume, mirror: policy.mirror)
            if let truth = loaded.truth {
                out.rows += try CaseMetrics.evaluate(caseName: c.id, prediction: p.labels, truth: truth, labels: labels,
                                                     options: policy.options(spacing: volume.spacing))
            }
            if scoreLandmarks, let heatmaps = p.heatmaps {
                let points = try policy.landmarks.points(heatmaps)
                let predicted = Dictionary(uniqueKeysWithValues: zip(landmarkNames, points))
                out.landmarks[c.id] = predicted
                if let path = c.landmarkPath {
                    let truth = try loaded.landmarks ?? Landmarks.read(path: path, rank: volume.shape.count, header: volume.header).points
                    do {
                        out.landmarkRows += try LandmarkReport.rows(caseName: c.id, predicted: predicted, truth: truth, names: landmarkNames,
                                                                    spacing: volume.spacing, shape: volume.shape)
                    } catch {
                        throw TrainingError("\(path): \(error)")
                    }
                }
            }
            progress?.update(i + 1, c.id)
        }
        return out
    }

    /// Each metric's foreground mean (the mean over labels of each label's mean over cases, NaN
    /// skipped), so a label with few cases weighs as much as one with many; with one label it is
    /// the mean over cases. Metrics with no defined value (e.g. topology switched off) are absent.
    public static func means(_ rows: [CaseMetricsRow]) -> [String: Double] {
        var means: [String: Double] = [:]
        for (name, mean) in LabelSummary.foregroundMean(LabelSummary.perLabel(rows)) where !mean.isNaN { means[name] = mean }
        return means
    }

    /// `landmarks.csv` (one row per case and landmark) and `landmarks.json` (per-landmark and
    /// overall MRE, SD, SDR) in `folder`.
    public static func writeLandmarks(_ rows: [LandmarkRow], scores: LandmarkReport.Scores, to folder: String) throws {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try AtomicFile.write(Array(LandmarkReport.csv(rows).utf8), to: "\(folder)/landmarks.csv")
        try AtomicFile.write(Array(LandmarkReport.json(scores).utf8), to: "\(folder)/landmarks.json")
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
