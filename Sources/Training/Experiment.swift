import Foundation
import Geometry
import Imaging
import Models
import NeuralNet
import Objectives
import Torch

/// What a configuration resolves to against a dataset: the dataset and its split, the model,
/// the objective, the patch size and the normalisation. Shared by training, evaluation and
/// prediction so they build the same things the same way.
public struct Experiment {
    public let config: ExperimentConfig
    public let dataset: Dataset
    public let trainCases: [DatasetCase]
    public let valCases: [DatasetCase]
    public let model: any SegmentationModel
    public let patchSize: [Int]
    /// The first training case's image shape (the default patch size derives from it).
    public let firstImageShape: [Int]
    public let normalization: Normalization
    public let device: Device
    /// The model's options with every default its builder read written out (what ran).
    public let modelOptions: [String: ConfigValue]
    /// `data.preprocessed`: the training cases (in `trainCases`' order) and the validation cases of
    /// the folder, memory-mapped or, with the cache, in memory.
    public let preprocessed: PreprocessedDataset?
    public let preprocessedValidation: PreprocessedDataset?
    /// `data.cache` resolved: whether training cases and validation images stay in memory.
    public let cacheInMemory: Bool
    /// Validation images and labels, loaded once when `cacheInMemory`.
    public let validationData: ValidationData
    public var classes: Int { dataset.description.labels.count }

    /// `localRank`: a distributed worker's rank on its machine, which picks its GPU (`Device(parsing:localRank:)`).
    public init(config: ExperimentConfig, localRank: Int? = nil) throws {
        self.config = config
        if config.run.threads > 0 { try Torch.setThreads(config.run.threads) }
        device = try Device(parsing: config.run.device, localRank: localRank)
        try Torch.manualSeed(config.run.seed)
        dataset = try Dataset.open(config.data.dataset)
        guard !dataset.training.isEmpty else { throw TrainingError("\(config.data.dataset): imagesTr holds no cases") }
        let split = try Self.split(config: config, ids: dataset.training.map(\.id))
        let byID = Dictionary(uniqueKeysWithValues: dataset.training.map { ($0.id, $0) })
        trainCases = try split.train.map { id in
            guard let c = byID[id] else { throw TrainingError("split names case \"\(id)\", which is not in the dataset") }
            return c
        }
        valCases = split.val.compactMap { byID[$0] }
        if let folder = config.data.preprocessed {
            // The folder's arrays are already normalised: data.normalization describes what preprocess did.
            normalization = .none
            let train = try PreprocessedDataset.open(folder, ids: trainCases.map(\.id))
            let val = valCases.isEmpty ? nil : try PreprocessedDataset.open(folder, ids: valCases.map(\.id))
            // Folders written before preprocess kept landmarks lack them.
            if let c = (train.cases + (val?.cases ?? [])).first(where: { c in
                c.landmarks == nil && (byID[c.id]?.landmarkPath.map { FileManager.default.fileExists(atPath: $0) } ?? false)
            }) {
                throw TrainingError("data.preprocessed \(folder): case \(c.id) has a landmark file but \(folder)/\(c.id).json holds no landmarks; "
                                    + "rerun `contour data preprocess` (it redoes such cases)")
            }
            let channels = dataset.description.channelNames.count
            if let c = (train.cases + (val?.cases ?? [])).first(where: { $0.channels != channels }) {
                throw TrainingError("data.preprocessed \(folder): case \(c.id) has \(c.channels) channels, \(config.data.dataset)/dataset.json names \(channels)")
            }
            let bytes = train.byteCount + (val?.byteCount ?? 0)
            cacheInMemory = config.data.cache == "memory" || (config.data.cache == "auto" && bytes <= Self.autoCacheBytes)
            preprocessed = cacheInMemory ? train.inMemory() : train
            preprocessedValidation = cacheInMemory ? val?.inMemory() : val
        } else {
            normalization = try Normalization(parsing: config.data.normalization)
            cacheInMemory = config.data.cache != "none"
            preprocessed = nil
            preprocessedValidation = nil
        }
        validationData = ValidationData(preprocessed: preprocessedValidation, keep: cacheInMemory)

        let description = dataset.description
        let options = Options(config.model.options, for: config.model.name)
        let model = try ModelRegistry.make(config.model.name, options: options, context: ModelContext(
            inChannels: description.channelNames.count, classes: description.labels.count, landmarks: description.landmarkNames.count))
        try model.to(device)
        self.model = model
        modelOptions = options.resolved
        let divisors = model.sizeDivisors

        firstImageShape = try preprocessed.map { $0.cases[0].shape } ?? Dataset.loadImage(dataset.training[0]).shape
        guard firstImageShape.count == model.spatialDims else {
            throw TrainingError("model \(config.model.name) is \(model.spatialDims)D but the \(preprocessed == nil ? "images" : "preprocessed cases of \(config.data.preprocessed!)") are \(firstImageShape.count)D")
        }
        if config.data.patchSize.isEmpty {
            let cap = model.spatialDims == 2 ? 256 : 96
            patchSize = zip(firstImageShape, divisors).map { s, divisor in Swift.max(divisor, (Swift.min(s, cap) / divisor) * divisor) }
        } else {
            guard config.data.patchSize.count == model.spatialDims else {
                throw TrainingError("data.patchSize \(config.data.patchSize) must have \(model.spatialDims) sizes")
            }
            if let axis = config.data.patchSize.indices.first(where: { config.data.patchSize[$0] % divisors[$0] != 0 }) {
                throw TrainingError("data.patchSize: \(config.data.patchSize[axis]) (axis \(axis)) is not divisible by \(divisors[axis]), which \(config.model.name) needs")
            }
            patchSize = config.data.patchSize
        }
    }

    /// `data.cache: auto` keeps preprocessed folders up to this size in memory.
    public static let autoCacheBytes = 2 << 30

    /// The configured objectives, each bound to the head it reads, checked against the model's
    /// heads and the targets the data has (so `compare --dry-run` finds a mismatch too).
    public func objective() throws -> CompositeObjective {
        let composite = try CompositeObjective(terms: config.objectives.map { o in
            var objective = try ObjectiveRegistry.make(o.name, options: o.options)
            if let head = o.head { objective = try HeadBoundObjective(objective, head: head) }
            return CompositeObjective.Term(weight: o.weight, objective: objective)
        })
        let heads = Set(model.headSpecs.map(\.name))
        let description = dataset.description
        let available = Targets.fields(hasLabels: trainCases.contains { $0.labelPath != nil },
                                       hasLandmarks: !description.landmarkNames.isEmpty,
                                       hasPseudoLabels: trainCases.contains { $0.pseudoLabelPath != nil })
        for (term, spec) in zip(composite.terms, config.objectives) {
            if let missing = term.objective.heads.first(where: { !heads.contains($0) }) {
                throw TrainingError("objective '\(spec.name)' reads head '\(missing)', which model '\(config.model.name)' does not produce "
                                    + "(heads: \(model.headSpecs.map(\.name).joined(separator: ", ")))")
            }
            if let missing = term.objective.needs.subtracting(available).sorted(by: { $0.rawValue < $1.rawValue }).first {
                let why = missing == .labels ? "no training case has a label map (labelsTr/)"
                    : missing == .pseudoLabels ? "no training case has pseudo labels (\(Dataset.pseudoLabelFolder)/CASE\(description.fileEnding), written by `contour pseudo-label`)"
                    : "the dataset declares no landmarks (dataset.json \"landmarks\" and landmarksTr/)"
                throw TrainingError("objective '\(spec.name)' needs \(missing.rawValue), but \(why)")
            }
        }
        return composite
    }

    /// Each objective's options with the defaults it read written out (what ran).
    public func objectiveOptions() throws -> [[String: ConfigValue]] {
        try config.objectives.map { o in
            let options = Options(o.options, for: o.name)
            _ = try ObjectiveRegistry.make(o.name, options: options)
            return options.resolved
        }
    }

    /// The run's train/validation split: splits.json when configured; k-fold (seed 12345, as
    /// nnU-Net) otherwise; with fewer than 2 × folds cases, the last fifth is held out.
    public static func split(config: ExperimentConfig, ids: [String]) throws -> Split {
        if let path = config.data.splits {
            let splits = try Splits.read(path: path)
            guard config.data.fold < splits.count else { throw TrainingError("data.fold \(config.data.fold) but \(path) has \(splits.count) splits") }
            return splits[config.data.fold]
        }
        if ids.count < 2 * config.data.folds {
            let n = Swift.max(1, ids.count / 5)
            return Split(train: Array(ids.dropLast(n)), val: Array(ids.suffix(n)))
        }
        let splits = try Splits.kFold(ids, folds: config.data.folds, seed: 12345)
        guard config.data.fold < splits.count else { throw TrainingError("data.fold \(config.data.fold) ≥ data.folds \(config.data.folds)") }
        return splits[config.data.fold]
    }

    /// Inference with the model being trained.
    public var predictor: Predictor { Predictor(model: model, patchSize: patchSize, normalization: normalization, device: device) }
}
