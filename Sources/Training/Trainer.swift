import Foundation
import Geometry
import Imaging
import Metrics
import Models
import NeuralNet
import Objectives
import Torch

/// What a finished run reports.
public struct TrainingSummary: Sendable {
    public var runFolder: String
    public var epochs: Int
    public var bestEpoch: Int?
    public var bestValue: Double?
    /// Means of the last validation (dice, hd95, betti0_error, …).
    public var validation: [String: Double]
    public var skippedSteps: Int
}

/// Trains a configured experiment: an epoch/iteration loop over background-prepared batches,
/// validation with the Metrics layer, atomic `latest`/`best` checkpoints, a JSON-lines log and
/// an HTML report. Methods plug in as named objectives; the trainer never special-cases one.
public final class Trainer {
    public let experiment: Experiment
    public let runFolder: String
    let quiet: Bool
    let objective: CompositeObjective
    let optimizer: Optimizer
    let schedule: LearningRateSchedule
    let loader: DataLoader
    let store: CheckpointStore
    let log: RunLog
    /// Maps of unaugmented labels (RRW, Boundary, skeleton tubes) are computed once per case.
    let mapCache: RegionMapCache?
    /// Found once by reflection, not every step.
    let parameters: [Tensor]

    public init(config: ExperimentConfig, quiet: Bool = false) throws {
        experiment = try Experiment(config: config)
        runFolder = config.run.output
        self.quiet = quiet
        objective = try experiment.objective()
        let params = experiment.model.parameters()
        parameters = params
        let o = config.optimizer
        optimizer = try OptimizerRegistry.make(o.name, groups: [ParameterGroup(params, learningRate: o.learningRate, weightDecay: o.weightDecay)],
                                               options: o.registryOptions())
        let total = config.run.epochs * config.run.iterationsPerEpoch
        schedule = try LearningRateSchedule.named(o.schedule, total: total, warmup: o.warmupIterations)
        let cache = SampleCache()
        let cases = experiment.trainCases
        let preset = try AugmentationPreset(name: config.data.preset)
        let loaderConfig = DataLoaderConfiguration(
            batchSize: config.data.batchSize, patchSize: experiment.patchSize,
            foregroundProbability: config.data.foregroundOversampling,
            augmentation: preset.augmentation(rank: experiment.patchSize.count), normalization: experiment.normalization,
            shuffle: true, dropLast: false, workers: Swift.max(config.data.workers, 1), prefetchBatches: 4, seed: config.run.seed)
        loader = try DataLoader(count: cases.count, configuration: loaderConfig) { i in try cache.sample(cases[i]) }
        try FileManager.default.createDirectory(atPath: runFolder, withIntermediateDirectories: true)
        store = try CheckpointStore(folder: "\(runFolder)/checkpoints")
        log = RunLog(path: "\(runFolder)/log.jsonl")
        // Valid only when a case's labels reach the loss unchanged: no augmentation, and patches that are the whole image.
        mapCache = config.data.preset == "none" && experiment.patchSize == experiment.firstImageShape ? RegionMapCache() : nil
    }

    /// A run folder's saved configuration (for `--resume`).
    public static func savedConfig(_ run: String) throws -> ExperimentConfig {
        try ExperimentConfig.load(path: "\(run)/config.yaml")
    }

    /// Runs (or with `resume`, continues) training; `untilEpoch` stops early after that epoch,
    /// as an interrupted run would, so the run can be resumed later.
    public func train(resume: Bool = false, untilEpoch: Int? = nil) throws -> TrainingSummary {
        let config = experiment.config
        let model = experiment.model
        var startEpoch = 0, iteration = 0, skipped = 0
        var best: (value: Double, epoch: Int)?
        if resume {
            guard let dir = store.path("latest") else { throw TrainingError("\(runFolder): nothing to resume (no checkpoints/latest)") }
            let state = try CheckpointStore.load(dir, into: model, optimizer: optimizer)
            startEpoch = state.epoch
            iteration = state.iteration
            skipped = state.skippedSteps
            if let v = state.bestValue, let e = state.bestEpoch { best = (v, e) }
            try log.truncate(toEpochs: startEpoch)
            say("resuming \(runFolder) after epoch \(startEpoch)")
        } else {
            try? FileManager.default.removeItem(atPath: log.path)
            try AtomicFile.write(Array(try config.yaml().utf8), to: "\(runFolder)/config.yaml")
        }
        if startEpoch >= config.run.epochs {
            // Nothing to do: keep the report and checkpoints as they are.
            say("all \(config.run.epochs) epochs already done")
            let last = try log.read().last(where: { $0.validation != nil })?.validation ?? [:]
            return TrainingSummary(runFolder: runFolder, epochs: config.run.epochs, bestEpoch: best?.epoch, bestValue: best?.value,
                                   validation: last, skippedSteps: skipped)
        }

        var lastValidation: [String: Double] = [:]
        var lastRows: [CaseMetricsRow] = []
        var streak = 0
        let endEpoch = Swift.min(config.run.epochs, untilEpoch ?? config.run.epochs)
        for epoch in startEpoch..<endEpoch {
            model.train()
            let started = Date()
            let progress = Progress(total: config.run.iterationsPerEpoch, label: "epoch \(epoch + 1)/\(config.run.epochs)", quiet: quiet)
            var lossSum = 0.0, counted = 0
            var termSums = [Double](repeating: 0, count: objective.terms.count)
            var lr = 0.0
            var iterator: BatchIterator?
            var loaderEpoch = -1
            for step in 0..<config.run.iterationsPerEpoch {
                // Global batch g → (loader epoch, batch): deterministic and resumable by iteration count.
                let g = iteration
                let (le, lb) = (g / loader.batchesPerEpoch, g % loader.batchesPerEpoch)
                if le != loaderEpoch || iterator == nil {
                    iterator = loader.batches(epoch: le, startingAt: lb)
                    loaderEpoch = le
                }
                guard let batch = try iterator!.next() else { throw TrainingError("data loader ended early") }
                iteration += 1
                optimizer.scaleLearningRate(by: schedule.factor(at: g))
                lr = optimizer.groups[0].learningRate
                let x = try Tensor(batch.images, shape: batch.imageShape).to(experiment.device)
                guard let labelValues = batch.labels else { throw TrainingError("batch \(g) has no label maps; segmentation training needs labels") }
                let y = try Tensor(labelValues.map { Int64($0) }, shape: [batch.batchSize, 1] + batch.spatialShape).to(experiment.device)
                try optimizer.zeroGrad()
                let outputs = try forward(x)
                // Objectives that start late (topoloss) see how far training is.
                let fraction = Double(g) / Double(config.run.epochs * config.run.iterationsPerEpoch)
                let (loss, terms) = try deepSupervisedLoss(outputs, labels: y, ids: batch.ids, progressFraction: fraction)
                let value = try loss.item()
                guard value.isFinite else {
                    skipped += 1
                    streak += 1
                    if streak >= config.run.maxNonFinite {
                        throw TrainingError("the loss was non-finite for \(streak) steps in a row (epoch \(epoch + 1), iteration \(step + 1)); "
                                            + "lower optimizer.learningRate or check the data (contour data check)")
                    }
                    continue
                }
                try loss.backward()
                if config.optimizer.gradientClip > 0 {
                    let norm = try clipGradientNorm(parameters, maxNorm: config.optimizer.gradientClip)
                    if !norm.isFinite {
                        skipped += 1
                        streak += 1
                        if streak >= config.run.maxNonFinite {
                            throw TrainingError("gradients were non-finite for \(streak) steps in a row (epoch \(epoch + 1)); lower the learning rate")
                        }
                        continue
                    }
                }
                try optimizer.step()
                streak = 0
                lossSum += value
                counted += 1
                for (i, t) in terms.enumerated() { termSums[i] += t }
                progress.update(step + 1, String(format: "loss %.4f", lossSum / Double(Swift.max(counted, 1))))
            }
            var record = EpochRecord(epoch: epoch + 1, trainLoss: counted > 0 ? lossSum / Double(counted) : .nan,
                                     objectives: Dictionary(uniqueKeysWithValues: zip(objective.terms.map(\.name), termSums.map { $0 / Double(Swift.max(counted, 1)) })),
                                     learningRate: lr, seconds: 0, skippedSteps: skipped, validation: nil)
            let isLast = epoch + 1 == config.run.epochs
            if (epoch + 1) % config.run.validationInterval == 0 || isLast, !experiment.valCases.isEmpty {
                let (means, rows) = try validate()
                record.validation = means
                lastValidation = means
                lastRows = rows
                let value = means[config.run.bestMetric] ?? .nan
                let higherIsBetter = config.run.bestMetric == "dice"
                if value.isFinite || best == nil, best == nil || (higherIsBetter ? value > best!.value : value < best!.value) {
                    best = (value, epoch + 1)
                    try store.save("best", model: model, optimizer: optimizer, state: state(epoch + 1, iteration, best, skipped))
                }
            }
            record.seconds = Date().timeIntervalSince(started)
            try store.save("latest", model: model, optimizer: optimizer, state: state(epoch + 1, iteration, best, skipped))
            try log.append(record)
            if !quiet {
                var line = String(format: "epoch %d: loss %.4f, lr %.2e, %.1f s", epoch + 1, record.trainLoss, lr, record.seconds)
                if let v = record.validation {
                    line += String(format: ", val Dice %.4f, HD95 %.2f, β0 error %.2f", v["dice"] ?? .nan, v["hd95"] ?? .nan, v["betti0_error"] ?? .nan)
                }
                print(line)
            }
        }
        if endEpoch == config.run.epochs { try writeReport(rows: lastRows) }
        return TrainingSummary(runFolder: runFolder, epochs: config.run.epochs, bestEpoch: best?.epoch, bestValue: best?.value,
                               validation: lastValidation, skippedSteps: skipped)
    }

    /// The model's outputs as float32, under bfloat16 autocast when mixed precision is on.
    func forward(_ x: Tensor) throws -> [Tensor] {
        let mode = experiment.config.run.mixedPrecision
        let autocast = mode == "bf16" || (mode == "auto" && experiment.device != .cpu)
        guard autocast else { return try experiment.model.outputs(x) }
        return try withAutocast(device: experiment.device, dtype: .bfloat16) { try experiment.model.outputs(x) }.map { try $0.to(.float32) }
    }

    func state(_ epoch: Int, _ iteration: Int, _ best: (value: Double, epoch: Int)?, _ skipped: Int) -> TrainingState {
        TrainingState(epoch: epoch, iteration: iteration, bestValue: best?.value, bestEpoch: best?.epoch, skippedSteps: skipped,
                      config: experiment.config.tree, contourVersion: ContourInfo.version,
                      channelNames: experiment.dataset.description.channelNames, labels: experiment.dataset.description.labels,
                      patchSize: experiment.patchSize)
    }

    /// nnU-Net's deep supervision: the loss at each output resolution against nearest-downsampled
    /// labels, weights 1/2^i normalised to sum 1. Returns the total and each term's value at full resolution.
    func deepSupervisedLoss(_ outputs: [Tensor], labels: Tensor, ids: [String], progressFraction: Double) throws -> (Tensor, [Double]) {
        let weights = (0..<outputs.count).map { 1 / Double(1 << $0) }
        let sum = weights.reduce(0, +)
        var total: Tensor?
        var terms: [Double] = []
        for (i, out) in outputs.enumerated() {
            var y = labels
            if out.shape.dropFirst(2) != labels.shape.dropFirst(2) {
                y = try labels.to(.float32).interpolate(size: Array(out.shape.dropFirst(2)), mode: .nearest).to(.int64)
            }
            var target = try LossTarget(labels: y, caseIDs: i == 0 ? ids : nil, cache: i == 0 ? mapCache : nil)
            target.trainingProgress = progressFraction
            if i == 0 { terms = try objective.values(logits: out, target: target).map { try $0.item() } }
            let l = try objective(logits: out, target: target) * (weights[i] / sum)
            total = total.map { $0 + l } ?? l
        }
        return (total!, terms)
    }

    /// Sliding-window prediction of every validation case and its metrics (means over cases
    /// and foreground labels; NaN skipped).
    public func validate() throws -> ([String: Double], [CaseMetricsRow]) {
        var rows: [CaseMetricsRow] = []
        let labels = experiment.dataset.description.foregroundLabels
        for c in experiment.valCases {
            guard let truth = try Dataset.loadLabels(c) else { continue }
            let volume = try Dataset.loadImage(c)
            let (_, pred) = try experiment.predictor.predict(volume)
            var options = CaseMetricsOptions()
            options.topology = truth.rank == 2 || truth.count <= 96 * 96 * 96
            rows += try CaseMetrics.evaluate(caseName: c.id, prediction: pred, truth: truth, labels: labels, options: options)
        }
        var means: [String: Double] = [:]
        for (name, summary) in CaseMetrics.summarize(rows) where summary.n > 0 { means[name] = summary.mean }
        return (means, rows)
    }

    func writeReport(rows: [CaseMetricsRow]) throws {
        let records = try log.read()
        var final: [(name: String, mean: Double, std: Double, n: Int)] = []
        for (name, s) in CaseMetrics.summarize(rows) where s.n > 0 { final.append((name, s.mean, s.std, s.n)) }
        // Best, median and worst validation cases by mean Dice.
        var byCase: [String: [Double]] = [:]
        for r in rows { byCase[r.caseName, default: []].append(r.dice) }
        let ranked = byCase.map { ($0.key, Summary($0.value).mean) }.filter { $0.1.isFinite }.sorted { $0.1 > $1.1 }
        var picks: [(String, Double)] = []
        if let f = ranked.first { picks.append(f) }
        if ranked.count > 2 { picks.append(ranked[ranked.count / 2]) }
        if ranked.count > 1, let l = ranked.last { picks.append(l) }
        var overlays: [RunReport.Overlay] = []
        let model = experiment.model
        if let dir = store.path("best") { _ = try CheckpointStore.load(dir, into: model) }
        for (id, dice) in picks {
            guard let c = experiment.valCases.first(where: { $0.id == id }), let truth = try Dataset.loadLabels(c) else { continue }
            let volume = try Dataset.loadImage(c)
            let (_, pred) = try experiment.predictor.predict(volume)
            overlays.append(RunReport.Overlay(caseID: id, dice: dice, image: volume.channels[0], truth: truth, prediction: pred))
        }
        let config = experiment.config
        let html = try RunReport.html(
            title: "Contour run \(URL(fileURLWithPath: runFolder).lastPathComponent)", records: records, finalMetrics: final, overlays: overlays,
            notes: ["model \(config.model.name), objectives \(objective.name), optimizer \(config.optimizer.name) lr \(config.optimizer.learningRate), "
                    + "\(config.run.epochs) epochs × \(config.run.iterationsPerEpoch) iterations, batch \(config.data.batchSize), patch \(experiment.patchSize), "
                    + "\(experiment.trainCases.count) training / \(experiment.valCases.count) validation cases, seed \(config.run.seed)"])
        try AtomicFile.write(Array(html.utf8), to: "\(runFolder)/report.html")
    }

    func say(_ s: String) { if !quiet { print(s) } }
}

/// Decoded samples kept in memory, so each case file is read once per run.
final class SampleCache: @unchecked Sendable {
    private var samples: [String: Sample] = [:]
    private let lock = NSLock()

    func sample(_ c: DatasetCase) throws -> Sample {
        lock.lock()
        if let s = samples[c.id] { lock.unlock(); return s }
        lock.unlock()
        let s = try Sample.load(c)
        lock.lock()
        samples[c.id] = s
        lock.unlock()
        return s
    }
}

public enum ContourInfo {
    public static let version = "0.1.0"
}
