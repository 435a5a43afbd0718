import Foundation
import Imaging
import Metrics
import Models
import NeuralNet
import Objectives
import Torch

/// Everything one stage of a run trains with, built from the stage's configuration and checked
/// against the model and the data before any training: the experiment (data, model), objectives
/// bound to heads, the balancer, the step, frozen parameters, parameter groups, the optimiser,
/// the schedule (with ReduceLROnPlateau's state) and the batch loader.
final class StageSession {
    let name: String
    let index: Int
    let config: ExperimentConfig
    let experiment: Experiment
    let objective: CompositeObjective
    let balancer: any Balancer
    let step: any TrainingStep
    let optimizer: Optimizer
    let schedule: LearningRateSchedule
    var plateau: ReduceOnPlateau?
    var stopping: EarlyStopping?
    let loader: DataLoader
    let context: StepContext
    var epochs: Int { config.run.epochs }
    var iterations: Int { config.run.epochs * config.run.iterationsPerEpoch }
    /// Unique names of the objectives, for logs.
    let termNames: [String]

    init(name: String, index: Int, config: ExperimentConfig, distributed: Distributed? = nil) throws {
        self.name = name
        self.index = index
        self.config = config
        let stageLabel = index == 0 && name == "main" ? "" : "stage '\(name)': "
        do {
            experiment = try Experiment(config: config, localRank: distributed?.localRank)
            let model = experiment.model
            let description = experiment.dataset.description
            objective = try experiment.objective()
            balancer = try BalancerRegistry.make(config.balancer.name, options: config.balancer.options)
            if balancer.needsGradients && objective.terms.count < 2 {
                throw TrainingError("balancer '\(config.balancer.name)' balances several objectives; the configuration has one "
                                    + "(\(config.objectives.map(\.name).joined(separator: ", "))); add objectives or use balancer: sum")
            }
            step = try TrainingStepRegistry.make(config.step.name, options: config.step.options)
            termNames = Self.uniqueNames(objective.terms.map(\.name))

            // Frozen parameters first: the optimiser sees only what trains.
            let named = model.namedParameters()
            for pattern in config.freeze {
                let hits = named.filter { Self.matches(pattern, $0.name) }
                guard !hits.isEmpty else {
                    throw TrainingError("freeze: '\(pattern)' matches no parameter of '\(config.model.name)' (keys look like \(named.prefix(3).map(\.name)))")
                }
                for (_, p) in hits { try p.requiringGrad(false) }
            }
            let trainable = named.filter { $0.tensor.requiresGrad }
            guard !trainable.isEmpty else { throw TrainingError("freeze: every parameter is frozen; nothing would train") }
            let o = config.optimizer
            var groups: [ParameterGroup] = []
            var taken = Set<Int>()
            for (gi, g) in o.groups.enumerated() {
                var members: [Tensor] = []
                for (i, p) in trainable.enumerated() where !taken.contains(i) && g.keys.contains(where: { Self.matches($0, p.name) }) {
                    members.append(p.tensor)
                    taken.insert(i)
                }
                guard !members.isEmpty else {
                    throw TrainingError("optimizer.groups[\(gi)].keys \(g.keys) match no trainable parameter of '\(config.model.name)'")
                }
                groups.append(ParameterGroup(members, learningRate: g.learningRate ?? o.learningRate, weightDecay: g.weightDecay ?? o.weightDecay))
            }
            let rest = trainable.enumerated().filter { !taken.contains($0.offset) }.map(\.element.tensor)
            if !rest.isEmpty { groups.insert(ParameterGroup(rest, learningRate: o.learningRate, weightDecay: o.weightDecay), at: 0) }
            optimizer = try OptimizerRegistry.make(o.name, groups: groups, options: o.registryOptions())
            if o.schedule == "plateau" {
                let metric = o.plateau.metric ?? config.run.bestMetric
                plateau = try ReduceOnPlateau(higherIsBetter: try Self.direction(metric, field: "optimizer.plateau.metric") == .higherIsBetter,
                                              patience: o.plateau.patience, factor: o.plateau.factor, threshold: o.plateau.threshold,
                                              cooldown: o.plateau.cooldown, minFactor: o.plateau.minLearningRate / o.learningRate)
                schedule = o.warmupIterations > 0 ? .warmup(steps: o.warmupIterations, then: .constant) : .constant
            } else {
                schedule = try LearningRateSchedule.named(o.schedule, total: config.run.epochs * config.run.iterationsPerEpoch, warmup: o.warmupIterations)
            }
            if let e = config.run.earlyStopping {
                let metric = e.metric ?? config.run.bestMetric
                _ = try Self.direction(metric, field: "run.earlyStopping.metric")
                stopping = EarlyStopping(metric: metric, patience: e.patience)
            }

            let cases = experiment.trainCases
            let preset = try AugmentationPreset(name: config.data.preset)
            var loaderConfig = DataLoaderConfiguration(
                batchSize: config.data.batchSize, patchSize: experiment.patchSize,
                foregroundProbability: config.data.foregroundOversampling,
                augmentation: preset.augmentation(rank: experiment.patchSize.count, parity: config.data.parity), normalization: experiment.normalization,
                shuffle: true, dropLast: false, workers: Swift.max(config.data.workers, 1), prefetchBatches: 4, seed: config.run.seed,
                landmarkNames: description.landmarkNames, composition: try step.composition(cases: cases, batchSize: config.data.batchSize),
                shard: distributed.flatMap { $0.worldSize > 1 ? DataShard(index: $0.rank, count: $0.worldSize) : nil })
            loaderConfig.keepUnaugmentedLabels = objective.needs.contains(.unaugmentedLabels)
            if let pre = experiment.preprocessed {
                loader = try DataLoader(preprocessed: pre, configuration: loaderConfig)
            } else if experiment.cacheInMemory {
                let cache = SampleCache()
                loader = try DataLoader(count: cases.count, configuration: loaderConfig) { i in try cache.sample(cases[i]) }
            } else {
                loader = try DataLoader(cases: cases, configuration: loaderConfig)
            }
            // Valid only when a case's labels reach the loss unchanged: no augmentation, and patches that are the whole image.
            let mapCache = config.data.preset == "none" && experiment.patchSize == experiment.firstImageShape ? RegionMapCache() : nil
            let heatmap = objective.needs.contains(.heatmaps) ? HeatmapSettings(
                sigma: config.data.heatmap.sigma, scale: config.data.heatmap.scale,
                normalization: HeatmapSettings.Normalization(rawValue: config.data.heatmap.normalization) ?? .perLandmark) : nil
            let mode = config.run.mixedPrecision
            context = StepContext(model: model, objective: objective, balancer: balancer, device: experiment.device,
                                  parameters: trainable.map(\.tensor), autocast: mode == "bf16" || (mode == "auto" && experiment.device != .cpu),
                                  foregroundClasses: Set(description.foregroundLabels), heatmap: heatmap, cache: mapCache)
            context.landmarkRelations = description.landmarkRelations
            context.distributed = distributed
            // SyncBatchNorm layers (norm: syncbatch) normalise over the job's global batch.
            if let distributed, distributed.worldSize > 1 {
                if config.run.overlapAllReduce { context.reducer = try GradientReducer(group: distributed, parameters: context.parameters) }
                for case let layer as SyncBatchNorm in model.namedModules().map(\.module) { layer.group = distributed }
            }
        } catch let e as TrainingError where !stageLabel.isEmpty {
            throw TrainingError(stageLabel + e.description)
        }
    }

    static func direction(_ metric: String, field: String) throws -> MetricDirection {
        guard (try? MetricCatalog.info(metric)) != nil else {
            throw TrainingError("\(field): unknown metric '\(metric)'; known: \(MetricCatalog.selectableNames.joined(separator: ", "))")
        }
        return try MetricCatalog.direction(of: metric)
    }

    /// The value ReduceOnPlateau watches: |v| for metrics whose ideal is 0.
    func plateauValue(_ v: Double) throws -> Double {
        let metric = config.optimizer.plateau.metric ?? config.run.bestMetric
        return try MetricCatalog.direction(of: metric) == .closerToZero ? Swift.abs(v) : v
    }

    /// A pattern with `*`/`?` is a shell-style pattern over the whole key; otherwise a key prefix.
    static func matches(_ pattern: String, _ key: String) -> Bool {
        pattern.contains("*") || pattern.contains("?") ? ModelRegistry.wildcard(pattern, matches: key) : key.hasPrefix(pattern)
    }

    static func uniqueNames(_ names: [String]) -> [String] {
        var count: [String: Int] = [:]
        return names.map { n in
            count[n, default: 0] += 1
            return count[n]! == 1 ? n : "\(n)#\(count[n]!)"
        }
    }
}

/// Stops a stage after `patience` validations without improvement of a metric (NaN ignored).
public struct EarlyStopping: Codable, Sendable, Equatable {
    public var metric: String
    public var patience: Int
    public var best: Double?
    public var bad = 0

    public init(metric: String, patience: Int) {
        self.metric = metric
        self.patience = patience
    }

    /// Records a validation; returns true when the stage should stop.
    public mutating func record(_ value: Double) throws -> Bool {
        guard !value.isNaN else { return false }
        if let b = best, try !MetricCatalog.isBetter(value, than: b, metric: metric) {
            bad += 1
        } else {
            best = value
            bad = 0
        }
        return bad >= patience
    }
}
