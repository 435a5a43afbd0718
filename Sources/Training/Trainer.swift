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

/// Trains a configured run: one or more stages, each an epoch/iteration loop over
/// background-prepared batches in which a `TrainingStep` writes the update and this loop owns
/// everything else — schedule, clipping, non-finite handling, the optimiser step, validation
/// (the same `Evaluation` as `contour evaluate`), best/latest checkpoints holding all training
/// state, early stopping, the JSON-lines log and the HTML report. Methods plug in as named
/// objectives, balancers and steps; the trainer never special-cases one.
public final class Trainer {
    public let config: ExperimentConfig
    public let runFolder: String
    let quiet: Bool
    let sessions: [StageSession]
    let store: CheckpointStore
    let log: RunLog
    /// The stage being trained (the first until training starts).
    private var current = 0
    /// Warnings this trainer wrote to stderr (one line each), for callers and tests.
    public private(set) var warnings: [String] = []
    /// Where `train(overwrite: true)` moved the previous run, when it did.
    public private(set) var replacedRun: String?
    /// The last validation's landmark scores (for the report), when the model predicts landmarks.
    var lastLandmarkScores: LandmarkReport.Scores?
    /// Told of every step, epoch and the end of the run (TensorBoard when `run.tensorboard`).
    public var observers: [any TrainingObserver] = []
    /// Data-parallel training: the process group this trainer is one rank of (nil: one process).
    public let distributed: Distributed?
    /// Whether this process writes the run folder (checkpoints, log, report): rank 0, or the only process.
    public var isMain: Bool { (distributed?.rank ?? 0) == 0 }

    /// The current stage's experiment (data, model, split).
    public var experiment: Experiment { sessions[current].experiment }
    var objective: CompositeObjective { sessions[current].objective }

    /// With `distributed`, every rank builds the same trainer; each reads its shard of the batches
    /// (`DataShard`), gradients are averaged over the ranks, and only rank 0 writes the run folder.
    public init(config: ExperimentConfig, quiet: Bool = false, distributed: Distributed? = nil) throws {
        self.config = config
        runFolder = config.run.output
        self.distributed = distributed
        self.quiet = quiet || (distributed?.rank ?? 0) != 0
        let stages = try config.stageConfigs()
        // Every stage is built (and so checked against its model and the data) before any training.
        var built: [StageSession] = []
        for (i, stage) in stages.enumerated() {
            if let p = stage.config.model.pretrained, !FileManager.default.isReadableFile(atPath: p.file) {
                throw TrainingError("\(stages.count > 1 ? "stage '\(stage.name)': " : "")model.pretrained: cannot read \(p.file)")
            }
            if let spec = stage.config.initialization {
                if let j = stages.firstIndex(where: { $0.name == spec.from }) {
                    guard j < i else {
                        throw TrainingError("stage '\(stage.name)': init.from '\(spec.from)' is \(j == i ? "this stage" : "a later stage"); it must name an earlier stage or a checkpoint")
                    }
                } else {
                    do { _ = try Predictor.resolve(spec.from) } catch {
                        let earlier = stages[..<i].map(\.name)
                        throw TrainingError("\(stages.count > 1 ? "stage '\(stage.name)': " : "")init.from '\(spec.from)' is neither an earlier stage"
                                            + (earlier.isEmpty ? "" : " (\(earlier.joined(separator: ", ")))") + " nor a checkpoint or run folder")
                    }
                }
            }
            built.append(try StageSession(name: stage.name, index: i, config: stage.config, distributed: distributed))
        }
        sessions = built
        try FileManager.default.createDirectory(atPath: runFolder, withIntermediateDirectories: true)
        store = try CheckpointStore(folder: "\(runFolder)/checkpoints")
        log = RunLog(path: "\(runFolder)/log.jsonl")
        if config.run.tensorboard && isMain { observers.append(TensorBoardWriter(folder: "\(runFolder)/tensorboard")) }
    }

    /// A run folder's saved configuration (for `--resume`): it continues in `run` itself, on the
    /// run's saved split; `overrides` as `--set`.
    public static func savedConfig(_ run: String, overrides: [String] = []) throws -> ExperimentConfig {
        try RunFolder.resumeConfig(run, overrides: overrides)
    }

    /// Runs (or with `resume`, continues) training; `untilEpoch` stops after that many epochs
    /// (counted across stages), as an interrupted run would, so the run can be resumed later.
    /// A fresh run into a folder that holds one is an error unless `overwrite`, which moves the
    /// old run aside (`RunFolder.moveAside`) instead of deleting anything.
    ///
    /// The run folder is locked (`RunFolderLock`, rank 0 only) until this returns. When
    /// `Interruption.requested` turns true (SIGINT/SIGTERM after `Interruption.install()`), the
    /// current step finishes, `latest` records the unfinished epoch, and this throws `TrainingInterrupted`.
    /// `resumeFrom: "previous"` continues from the checkpoint before `latest` (when `latest` is damaged).
    public func train(resume: Bool = false, resumeFrom: String = "latest", overwrite: Bool = false,
                      untilEpoch: Int? = nil) throws -> TrainingSummary {
        let totalEpochs = sessions.map(\.epochs).reduce(0, +)
        var stageIndex = 0, stageEpoch = 0, iteration = 0, skipped = 0
        var data = DataPosition()
        var best: (value: Double, epoch: Int)?
        var resumedInside = false
        var partial: TrainingState.PartialEpoch?
        var lock: RunFolderLock?
        if isMain { lock = try RunFolderLock(folder: runFolder) }
        defer { lock?.release() }
        if resume {
            guard ["latest", "previous"].contains(resumeFrom) else {
                throw TrainingError("resume from '\(resumeFrom)': expected latest or previous")
            }
            guard let dir = store.path(resumeFrom) else {
                throw TrainingError("\(runFolder): nothing to resume (no checkpoints/\(resumeFrom)); start it again with --overwrite")
            }
            // A damaged or mismatched checkpoint is an error naming it, never a fresh start; `previous` is offered.
            let state: TrainingState
            do {
                state = try CheckpointStore.readState(dir)
                stageIndex = state.stage ?? 0
                guard stageIndex < sessions.count, (state.stageName ?? sessions[stageIndex].name) == sessions[stageIndex].name else {
                    throw TrainingError("\(dir): the checkpoint is of stage \(state.stageName ?? "?"), which this configuration's stages "
                                        + "(\(sessions.map(\.name).joined(separator: ", "))) do not have at position \(stageIndex + 1)")
                }
                let s = sessions[stageIndex]
                _ = try CheckpointStore.load(dir, into: s.experiment.model, optimizer: s.optimizer)
                try restore(state, checkpoint: dir, into: s)
            } catch {
                throw TrainingError("cannot resume from \(dir): \(error)" + fallbackHint(after: resumeFrom))
            }
            let s = sessions[stageIndex]
            if resumeFrom == "previous" {
                // From now on the run continues from here; the damaged checkpoint is let go.
                if isMain { try store.alias("latest", to: "previous") }
                warn("warning: continuing from \(dir) (epoch \(state.epoch)), the checkpoint before latest")
            }
            stageEpoch = state.stageEpoch ?? state.epoch
            iteration = state.iteration
            data = state.data ?? DataPosition(iteration: iteration, loader: s.loader)
            let workers = distributed?.worldSize ?? 1, before = state.worldSize ?? workers
            if before != workers {
                say("resuming a run trained by \(before) worker(s) with \(workers): the global batch is now \(workers) × \(s.config.data.batchSize); "
                    + "the data continue after sample \(data.samples) of loader epoch \(data.epoch)")
            }
            skipped = state.skippedSteps
            if let v = state.bestValue, let e = state.bestEpoch { best = (v, e) }
            partial = state.partialEpoch
            if isMain { try log.truncate(toEpochs: state.epoch) }
            let saved = try? ExperimentConfig(tree: state.config, name: "\(dir)/state.json", requireDataset: false)
            // A stage that ended by reaching its epochs continues when run.epochs grew; an early-stopped one stays done.
            let extended = state.stageFinished == true && stageEpoch == saved?.run.epochs && s.epochs > stageEpoch
            if (state.stageFinished == true && !extended) || stageEpoch >= s.epochs {
                stageIndex += 1
                (stageEpoch, iteration, best, data, partial) = (0, 0, nil, DataPosition(), nil)
            } else {
                resumedInside = true
                if let saved { scheduleChangeWarning(saved: saved, session: s, iteration: iteration) }
            }
            say("resuming \(runFolder) after epoch \(state.epoch)" + (sessions.count > 1 ? " (stage \(s.name))" : ""))
            if isMain { try keepSplit(resuming: true) }
        } else if isMain {
            if RunFolder.holdsRun(runFolder) {
                guard overwrite else { throw RunFolder.refusal(runFolder) }
                let aside = try RunFolder.moveAside(runFolder)
                replacedRun = aside
                try FileManager.default.createDirectory(atPath: store.folder, withIntermediateDirectories: true)
                // The lock file moved with the old run: lock the new folder, then let the old one go.
                let fresh = try RunFolderLock(folder: runFolder)
                lock?.release()
                lock = fresh
                warn("moved the previous run in \(runFolder) to \(aside)")
            }
            // What ran: every model and objective default written out, paths absolute.
            let saved = try config.resolved(by: sessions.map { ($0.name, $0.experiment) })
            try AtomicFile.write(Array(try RunFolder.savedConfigText(saved).utf8), to: "\(runFolder)/config.yaml")
            try keepSplit(resuming: false)
        }
        if isMain { dataWarnings() }
        if stageIndex >= sessions.count {
            // Nothing to do: keep the report and checkpoints as they are.
            say("all \(totalEpochs) epochs already done")
            let last = try log.read().last(where: { $0.validation != nil })?.validation ?? [:]
            let state = try store.path("latest").map { try CheckpointStore.readState($0) }
            let bestPair = state.flatMap { s in s.bestValue.flatMap { v in s.bestEpoch.map { (v, $0) } } }
            return TrainingSummary(runFolder: runFolder, epochs: totalEpochs, bestEpoch: bestPair?.1, bestValue: bestPair?.0,
                                   validation: last, skippedSteps: state?.skippedSteps ?? skipped)
        }

        var lastValidation: [String: Double] = [:]
        var lastRows: [CaseMetricsRow] = []
        var streak = 0
        // Observers count steps across stages.
        func globalStep(_ si: Int) -> Int { sessions[..<si].map(\.iterations).reduce(0, +) + iteration }
        for o in observers { try o.trainingWillStart(step: globalStep(stageIndex), resumed: resume) }
        for si in stageIndex..<sessions.count {
            current = si
            let s = sessions[si]
            let ctx = s.context
            let model = s.experiment.model
            let epochsBefore = sessions[..<si].map(\.epochs).reduce(0, +)
            if !(si == stageIndex && resumedInside) {
                (stageEpoch, iteration, best, data) = (0, 0, nil, DataPosition())
                if let p = s.config.model.pretrained {
                    if let until = untilEpoch, epochsBefore >= until { break }
                    try loadPretrained(s, p)
                }
                if let spec = s.config.initialization {
                    if let until = untilEpoch, epochsBefore >= until { break }
                    try initialize(s, from: spec)
                }
            }
            // Every rank starts the stage from rank 0's weights and buffers.
            try distributed?.broadcast(inPlace: model.stateDict().map(\.tensor), from: 0)
            var stopped = false
            for e in stageEpoch..<s.epochs {
                let epoch = epochsBefore + e + 1
                if let until = untilEpoch, epoch > until { break }
                let config = s.config
                model.train()
                try s.step.epochWillStart(e + 1, context: ctx)
                try s.balancer.epochWillStart(e + 1)
                // An epoch an interruption cut short continues at its next step, with its sums.
                let resumed = partial
                partial = nil
                let started = Date().addingTimeInterval(-(resumed?.seconds ?? 0))
                let label = sessions.count > 1 ? "\(s.name) epoch \(e + 1)/\(s.epochs)" : "epoch \(epoch)/\(totalEpochs)"
                let progress = Progress(total: config.run.iterationsPerEpoch, label: label, quiet: quiet)
                let terms = s.objective.terms.count
                var lossSum = resumed?.lossSum ?? 0, counted = resumed?.counted ?? 0
                var termSums = resumed?.termSums.count == terms ? resumed!.termSums : [Double](repeating: 0, count: terms)
                var weightSums = resumed?.weightSums.count == terms ? resumed!.weightSums : [Double](repeating: 0, count: terms)
                var weighted = resumed?.weightSums.count == terms ? resumed!.weighted : 0
                var lr = s.optimizer.groups[0].learningRate
                var iterator: BatchIterator?
                var loaderEpoch = -1
                let firstStep = Swift.min(resumed?.steps ?? 0, config.run.iterationsPerEpoch)
                func interruption(after steps: Int) -> TrainingInterrupted {
                    TrainingInterrupted(runFolder: runFolder, epoch: epoch, step: steps, stepsPerEpoch: config.run.iterationsPerEpoch,
                                        signal: Interruption.signalName)
                }
                // Saves `latest` inside the epoch after `steps` steps and stops the run.
                func interrupt(after steps: Int) throws -> Never {
                    if isMain {
                        var st = state(s, epoch: epoch - 1, stageEpoch: e, iteration: iteration, data: data, best: best, skipped: skipped, finished: false)
                        st.partialEpoch = TrainingState.PartialEpoch(steps: steps, lossSum: lossSum, counted: counted, termSums: termSums,
                                                                     weightSums: weightSums, weighted: weighted,
                                                                     seconds: Date().timeIntervalSince(started))
                        try store.save("latest", model: model, optimizer: s.optimizer, state: st, rng: try Torch.defaultGeneratorState())
                    }
                    throw interruption(after: steps)
                }
                // Time the steps spend waiting for a batch, against the steps' whole time.
                var waited: UInt64 = 0
                let stepsStarted = DispatchTime.now().uptimeNanoseconds
                for step in firstStep..<config.run.iterationsPerEpoch {
                    if step > firstStep, try stopRequested() { try interrupt(after: step) }
                    // The data position (global samples read) → this worker's next batch: deterministic and resumable.
                    let g = iteration
                    let offset = data.offset(in: s.loader)
                    if data.epoch != loaderEpoch || iterator == nil {
                        iterator = s.loader.batches(epoch: data.epoch, offset: offset)
                        loaderEpoch = data.epoch
                    }
                    let asked = DispatchTime.now().uptimeNanoseconds
                    guard let batch = try iterator!.next() else { throw TrainingError("data loader ended early") }
                    waited += DispatchTime.now().uptimeNanoseconds - asked
                    data.advance(in: s.loader)
                    iteration += 1
                    s.optimizer.scaleLearningRate(by: s.schedule.factor(at: g) * (s.plateau?.factor ?? 1))
                    lr = s.optimizer.groups[0].learningRate
                    ctx.iteration = g
                    // Objectives that start late (topoloss) see how far the stage is.
                    ctx.progress = Double(g) / Double(s.iterations)
                    // A skipped step counts; too many in a row stop the run with `message`.
                    func skip(_ message: (Int) -> String) throws {
                        skipped += 1
                        streak += 1
                        if streak >= config.run.maxNonFinite { throw TrainingError(message(streak)) }
                    }
                    try s.optimizer.zeroGrad()
                    let outcome = try ctx.synchronize(try s.step.step(batch, context: ctx))
                    guard outcome.applied else {
                        try skip { "the loss was non-finite for \($0) steps in a row (epoch \(epoch), iteration \(step + 1)); "
                            + "lower optimizer.learningRate or check the data (contour data check)" }
                        continue
                    }
                    if config.optimizer.gradientClip > 0,
                       !(try clipGradientNorm(ctx.parameters, maxNorm: config.optimizer.gradientClip)).isFinite {
                        try skip { "gradients were non-finite for \($0) steps in a row (epoch \(epoch)); lower the learning rate" }
                        continue
                    }
                    try s.optimizer.step()
                    streak = 0
                    lossSum += outcome.total
                    counted += 1
                    for (i, t) in outcome.losses.enumerated() { termSums[i] += t }
                    if let w = outcome.weights, w.count == weightSums.count {
                        for (i, x) in w.enumerated() { weightSums[i] += x }
                        weighted += 1
                    }
                    if !observers.isEmpty {
                        let losses = Dictionary(uniqueKeysWithValues: zip(s.termNames, outcome.losses))
                        let weights = Dictionary(uniqueKeysWithValues: zip(s.termNames, outcome.weights ?? []))
                        for o in observers {
                            try o.stepDidEnd(step: globalStep(si), total: outcome.total, losses: losses, weights: weights, learningRate: lr)
                        }
                    }
                    progress.update(step + 1, String(format: "loss %.4f", lossSum / Double(Swift.max(counted, 1))))
                }
                if try stopRequested() { try interrupt(after: config.run.iterationsPerEpoch) }
                var record = EpochRecord(epoch: epoch, trainLoss: counted > 0 ? lossSum / Double(counted) : .nan,
                                         objectives: Dictionary(uniqueKeysWithValues: zip(s.termNames, termSums.map { $0 / Double(Swift.max(counted, 1)) })),
                                         learningRate: lr, seconds: 0, skippedSteps: skipped, validation: nil,
                                         stage: sessions.count > 1 ? s.name : nil)
                let stepTime = DispatchTime.now().uptimeNanoseconds - stepsStarted
                if stepTime > 0 && config.run.iterationsPerEpoch > firstStep { record.dataWait = Double(waited) / Double(stepTime) }
                if weighted > 0 {
                    record.balancerWeights = Dictionary(uniqueKeysWithValues: zip(s.termNames, weightSums.map { $0 / Double(weighted) }))
                }
                let isLast = e + 1 == s.epochs
                if (e + 1) % config.run.validationInterval == 0 || isLast, !s.experiment.valCases.isEmpty {
                    // Running statistics (batch norm) moved with each rank's own batches: all validate rank 0's, as DDP's broadcast_buffers.
                    try distributed?.broadcast(inPlace: model.namedBuffers().map(\.tensor), from: 0)
                    let (means, rows) = try validate()
                    record.validation = means
                    lastValidation = means
                    lastRows = rows
                    let value = means[config.run.bestMetric] ?? .nan
                    if value.isNaN { say("epoch \(epoch): validation \(config.run.bestMetric) is NaN (undefined on every case); not considered for best") }
                    if try MetricCatalog.becomesBest(value, over: best, metric: config.run.bestMetric) {
                        best = (value, epoch)
                        if isMain { try store.save("best", model: model, optimizer: s.optimizer,
                                       state: state(s, epoch: epoch, stageEpoch: e + 1, iteration: iteration, data: data, best: best, skipped: skipped, finished: false),
                                       rng: try Torch.defaultGeneratorState()) }
                    }
                    if s.plateau != nil {
                        let metric = config.optimizer.plateau.metric ?? config.run.bestMetric
                        if s.plateau!.record(try s.plateauValue(means[metric] ?? .nan)) {
                            say(String(format: "epoch %d: %@ has not improved for %d validations; learning rate × %g", epoch, metric,
                                       config.optimizer.plateau.patience + 1, config.optimizer.plateau.factor))
                        }
                    }
                    if s.stopping != nil, try s.stopping!.record(means[s.stopping!.metric] ?? .nan) {
                        stopped = true
                        say("epoch \(epoch): early stopping — \(s.stopping!.metric) has not improved for \(s.stopping!.patience) validations")
                    }
                }
                // All ranks validate the same weights alike; still, they stop together or not at all.
                if let d = distributed, d.worldSize > 1 { stopped = try d.allReduce([stopped ? 1 : 0], .max)[0] > 0 }
                try s.step.epochDidEnd(e + 1, validation: record.validation, context: ctx)
                record.seconds = Date().timeIntervalSince(started)
                let finished = isLast || stopped
                if isMain {
                    try store.save("latest", model: model, optimizer: s.optimizer,
                                   state: state(s, epoch: epoch, stageEpoch: e + 1, iteration: iteration, data: data, best: best, skipped: skipped, finished: finished),
                                   rng: try Torch.defaultGeneratorState())
                    if finished && sessions.count > 1 { try store.alias("stage-\(s.name)", to: "latest") }
                    try log.append(record)
                }
                // A later stage may initialise from this one's checkpoint: wait until rank 0 wrote it.
                if finished && sessions.count > 1 { try distributed?.barrier() }
                for o in observers { try o.epochDidEnd(step: globalStep(si), record: record) }
                if !quiet {
                    var line = String(format: "epoch %d: loss %.4f, lr %.2e, %.1f s", epoch, record.trainLoss, lr, record.seconds)
                    if let v = record.validation {
                        line += String(format: ", val Dice %.4f, HD95 %.2f, β0 error %.2f", v["dice"] ?? .nan, v["hd95"] ?? .nan, v["betti0_error"] ?? .nan)
                        if let mre = v["mre"] { line += String(format: ", MRE %.2f mm", mre) }
                    }
                    print(line)
                }
                // A signal during validation or the save: this epoch is saved whole, so stop before the
                // next one rather than after its first step. A finished run (its last epoch) completes.
                if !finished, try stopRequested() {
                    throw interruption(after: config.run.iterationsPerEpoch)
                }
                if stopped { break }
            }
            if let until = untilEpoch, epochsBefore + s.epochs > until, !stopped {
                return TrainingSummary(runFolder: runFolder, epochs: totalEpochs, bestEpoch: best?.epoch, bestValue: best?.value,
                                       validation: lastValidation, skippedSteps: skipped)
            }
        }
        if isMain { try writeReport(rows: lastRows) }
        return TrainingSummary(runFolder: runFolder, epochs: totalEpochs, bestEpoch: best?.epoch, bestValue: best?.value,
                               validation: lastValidation, skippedSteps: skipped)
    }

    /// What to do when `latest` cannot be loaded: the previous checkpoint, when there is one.
    func fallbackHint(after failed: String) -> String {
        guard failed == "latest" else { return "" }
        guard let previous = store.path("previous"), let state = try? CheckpointStore.readState(previous) else {
            return "; there is no previous checkpoint to fall back to"
        }
        return "; the checkpoint before it, \(previous) (epoch \(state.epoch)), is kept: continue from it with "
            + "`contour train --resume \(runFolder) --resume-from previous`"
    }

    /// Whether to stop now: a signal reached this process (or, distributed, any rank), so all ranks stop at the same step.
    func stopRequested() throws -> Bool {
        var stop = Interruption.requested
        if let d = distributed, d.worldSize > 1 { stop = try d.allReduce([stop ? 1 : 0], .max)[0] > 0 }
        return stop
    }

    /// Saves the resolved split as `splits.json` (a fresh run, or a run from before it was kept);
    /// on resume, warns when the dataset's cases changed since.
    func keepSplit(resuming: Bool) throws {
        let ids = sessions[0].experiment.dataset.training.map(\.id)
        let path = RunFolder.splitsPath(runFolder)
        if resuming, let saved = try RunFolder.savedSplit(runFolder, fold: config.data.fold) {
            if let w = RunWarnings.splitDrift(saved, ids: ids, file: path) { warn(w) }
            return
        }
        try Splits.write(try RunFolder.splits(config: config, ids: ids), path: path)
    }

    /// Landmarks no objective reads, patches larger than the images: once per distinct message.
    func dataWarnings() {
        var seen = Set<String>()
        for s in sessions {
            let e = s.experiment, d = e.dataset.description
            let lines = [RunWarnings.unusedLandmarks(d.landmarkNames, needs: s.objective.needs, objectives: s.config.objectives.map(\.name)),
                         RunWarnings.patchPadding(patch: e.patchSize, image: e.firstImageShape, caseID: e.dataset.training[0].id)]
            for line in lines.compactMap({ $0 }) where seen.insert(line).inserted { warn(line) }
        }
    }

    /// On resume with a different length: the schedule is defined over the new total iterations,
    /// so the learning rate continues from where that schedule is, not from where the run stopped.
    func scheduleChangeWarning(saved: ExperimentConfig, session s: StageSession, iteration: Int) {
        let o = s.config.optimizer
        let oldTotal = saved.run.epochs * saved.run.iterationsPerEpoch
        guard oldTotal != s.iterations, !["constant", "plateau"].contains(o.schedule),
              let old = try? LearningRateSchedule.named(o.schedule, total: oldTotal, warmup: o.warmupIterations),
              let base = s.optimizer.groups.first?.baseLearningRate else { return }
        let from = base * old.factor(at: Swift.max(iteration - 1, 0)), to = base * s.schedule.factor(at: iteration)
        warn(String(format: "warning: run.epochs × iterationsPerEpoch changed from %d to %d iterations; the %@ schedule now spans the new total, "
                    + "so the learning rate goes from %.3g (last step) to %.3g at iteration %d", oldTotal, s.iterations, o.schedule, from, to, iteration + 1))
    }

    /// Writes `line` to stderr even when quiet, and keeps it in `warnings`.
    func warn(_ line: String) {
        warnings.append(line)
        if isMain { RunWarnings.emit(line) }
    }

    func state(_ s: StageSession, epoch: Int, stageEpoch: Int, iteration: Int, data: DataPosition, best: (value: Double, epoch: Int)?,
               skipped: Int, finished: Bool) -> TrainingState {
        let d = s.experiment.dataset.description
        var st = TrainingState(epoch: epoch, iteration: iteration, bestValue: best?.value, bestEpoch: best?.epoch, skippedSteps: skipped,
                               config: s.config.tree, contourVersion: ContourInfo.version, channelNames: d.channelNames, labels: d.labels,
                               patchSize: s.experiment.patchSize)
        st.landmarkNames = d.landmarkNames.isEmpty ? nil : d.landmarkNames
        st.stage = s.index
        st.stageName = s.name
        st.stageEpoch = stageEpoch
        st.stageFinished = finished
        let b = s.balancer.state(), t = s.step.state()
        st.balancer = b.isEmpty ? nil : b
        st.step = t.isEmpty ? nil : t
        st.plateau = s.plateau
        st.earlyStopping = s.stopping
        st.data = data
        st.worldSize = distributed?.worldSize ?? 1
        return st
    }

    /// Puts back what a checkpoint recorded besides weights and optimiser moments.
    func restore(_ state: TrainingState, checkpoint dir: String, into s: StageSession) throws {
        if let b = state.balancer { try s.balancer.load(state: b) }
        if let t = state.step { try s.step.load(state: t) }
        if let p = state.plateau, s.plateau != nil { s.plateau = p }
        if let e = state.earlyStopping, s.stopping != nil { s.stopping = e }
        if let rng = try CheckpointStore.rngState(dir) { try Torch.setDefaultGeneratorState(rng) }
    }

    /// `model.pretrained`: a weight file by exact key (under `prefix`), as PyTorch's
    /// `load_state_dict(strict=False)`: missing and unexpected keys are a warning, shapes must match.
    func loadPretrained(_ s: StageSession, _ p: ExperimentConfig.Pretrained) throws {
        let model = s.experiment.model
        let mapping = model as? any PretrainedKeyMapping
        let report = try model.loadWeights(from: p.file, prefix: p.prefix, strict: false,
                                           rename: mapping.map { m in { m.modelKey(forPretrained: $0) } })
        let stage = sessions.count > 1 ? "stage \(s.name): " : ""
        let own = model.stateDict().filter { $0.name.hasPrefix(p.prefix) }
        let loaded = own.count - report.missing.count
        guard loaded > 0 else {
            throw TrainingError("\(stage)model.pretrained \(p.file): no tensor matches a key of model '\(s.config.model.name)'"
                                + (p.prefix.isEmpty ? "" : " under prefix '\(p.prefix)'") + ": the file's keys look like "
                                + report.unexpected.prefix(3).joined(separator: ", ") + "; the model's like "
                                + own.prefix(3).map(\.name).joined(separator: ", "))
        }
        say("\(stage)\(loaded) tensors loaded from \(p.file)\(p.prefix.isEmpty ? "" : " into \(p.prefix)*")")
        if !report.missing.isEmpty {
            warn("warning: \(stage)model.pretrained \(p.file): \(report.missing.count) model keys not in the file (left as initialised): "
                 + Self.list(report.missing))
        }
        if !report.unexpected.isEmpty {
            warn("warning: \(stage)model.pretrained \(p.file): \(report.unexpected.count) file keys the model lacks (ignored): "
                 + Self.list(report.unexpected))
        }
    }

    static func list(_ keys: [String], limit: Int = 12) -> String {
        keys.prefix(limit).joined(separator: ", ") + (keys.count > limit ? ", … (\(keys.count - limit) more)" : "")
    }

    /// Copies weights into a stage's model from an earlier stage or a checkpoint, by key pattern.
    func initialize(_ s: StageSession, from spec: ExperimentConfig.Initialization) throws {
        let dir: String
        if sessions.contains(where: { $0.name == spec.from }) {
            guard let d = store.path("stage-\(spec.from)") else {
                throw TrainingError("stage '\(s.name)': init.from '\(spec.from)': that stage has not finished (no checkpoints/stage-\(spec.from))")
            }
            dir = d
        } else {
            dir = try Predictor.resolve(spec.from)
        }
        let model = s.experiment.model
        let buffers = Set(model.namedBuffers().map(\.name))
        var chosen: [String: Tensor] = [:]
        for (k, t) in try Safetensors.load("\(dir)/model.safetensors").tensors
        where spec.keys.contains(where: { StageSession.matches($0, k) }) && (spec.buffers || !buffers.contains(k)) {
            chosen[k] = t
        }
        guard !chosen.isEmpty else {
            throw TrainingError("stage '\(s.name)': init.keys \(spec.keys) match no tensor of \(dir)/model.safetensors")
        }
        let report = try model.loadStateDict(chosen, strict: false)
        guard report.unexpected.isEmpty, report.misShaped.isEmpty else {
            throw TrainingError("stage '\(s.name)': init from \(dir) does not fit model '\(s.config.model.name)': "
                                + (report.unexpected.isEmpty ? "" : "keys it lacks: \(report.unexpected.prefix(5).joined(separator: ", ")); ")
                                + report.misShaped.prefix(5).joined(separator: "; "))
        }
        say("stage \(s.name): \(chosen.count) tensors initialised from \(dir)")
    }

    /// Sliding-window prediction of every validation case and its metrics (means over cases
    /// and foreground labels; NaN skipped).
    /// With a heatmap head, `mre` and `sdr_R` of the landmark cases join the means. Distributed:
    /// each rank predicts its share of the cases and every rank gets all the rows.
    public func validate() throws -> ([String: Double], [CaseMetricsRow]) {
        let d = experiment.dataset.description
        let outcome = try Evaluation.evaluateAll(experiment.predictor, cases: Evaluation.cases(of: experiment.valCases),
                                                 labels: d.foregroundLabels, landmarkNames: d.landmarkNames,
                                                 policy: try EvaluationPolicy(config: experiment.config), distributed: distributed,
                                                 load: experiment.validationData.load)
        var means = Evaluation.means(outcome.rows)
        let scores = LandmarkReport.summary(outcome.landmarkRows, names: d.landmarkNames, radii: experiment.config.evaluation.sdrRadii)
        means.merge(LandmarkReport.means(scores)) { a, _ in a }
        lastLandmarkScores = scores.overall.n > 0 ? scores : nil
        return (means, outcome.rows)
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
            guard let c = experiment.valCases.first(where: { $0.id == id }), let scored = Evaluation.cases(of: [c]).first else { continue }
            let loaded = try experiment.validationData.load(scored)
            guard let truth = loaded.truth else { continue }
            let volume = loaded.volume
            let (_, pred) = try experiment.predictor.predict(volume)
            overlays.append(RunReport.Overlay(caseID: id, dice: dice, image: volume.channels[0], truth: truth, prediction: pred))
        }
        for o in observers { try o.trainingDidEnd(overlays: overlays) }
        let config = experiment.config
        let html = try RunReport.html(
            title: "Contour run \(URL(fileURLWithPath: runFolder).lastPathComponent)", records: records, finalMetrics: final, overlays: overlays,
            notes: ["model \(config.model.name), objectives \(objective.name), optimizer \(config.optimizer.name) lr \(config.optimizer.learningRate), "
                    + "\(config.run.epochs) epochs × \(config.run.iterationsPerEpoch) iterations, batch \(config.data.batchSize), patch \(experiment.patchSize), "
                    + "\(experiment.trainCases.count) training / \(experiment.valCases.count) validation cases, seed \(config.run.seed)"],
            labels: LabelSummary.perLabel(rows, names: LabelNames(datasetLabels: experiment.dataset.description.labels)),
            landmarks: lastLandmarkScores)
        try AtomicFile.write(Array(html.utf8), to: "\(runFolder)/report.html")
    }

    /// Status goes to stderr, so stdout holds only the results (the epoch lines).
    func say(_ s: String) { if !quiet { fputs(s + "\n", stderr) } }
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
