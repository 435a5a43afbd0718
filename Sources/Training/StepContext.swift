import Imaging
import Models
import NeuralNet
import Objectives
import Torch

/// What a `TrainingStep` works with: the model, the objectives and the balancer of the stage,
/// and the shared pieces every step needs — batch → tensors and `Targets`, the forward pass
/// (mixed precision in one place), per-objective losses, and the update (non-finite guard,
/// one backward or per-objective gradients through the balancer, written to `.grad`).
public final class StepContext {
    public let model: any SegmentationModel
    public let objective: CompositeObjective
    public let balancer: any Balancer
    public let device: Device
    /// Trainable parameters: what the update is written to and what balancers see gradients of.
    public let parameters: [Tensor]
    /// The stage's iteration running (0-based) and the fraction of the stage done, in [0, 1].
    public internal(set) var iteration = 0
    public internal(set) var progress = 0.0
    let autocast: Bool
    let foregroundClasses: Set<Int>
    let heatmap: HeatmapSettings?
    let cache: RegionMapCache?
    /// dataset.json `relations` (landmark name → classes), handed to objectives through `Targets`.
    var landmarkRelations: [String: [Int]] = [:]
    /// Data-parallel training: the group whose ranks average their updates (`synchronize`).
    public internal(set) var distributed: Distributed?

    public init(model: any SegmentationModel, objective: CompositeObjective, balancer: any Balancer, device: Device, parameters: [Tensor],
                autocast: Bool = false, foregroundClasses: Set<Int>, heatmap: HeatmapSettings? = nil, cache: RegionMapCache? = nil) {
        self.model = model
        self.objective = objective
        self.balancer = balancer
        self.device = device
        self.parameters = parameters
        self.autocast = autocast
        self.foregroundClasses = foregroundClasses
        self.heatmap = heatmap
        self.cache = cache
    }

    /// The batch's images as a (B, C, spatial…) tensor on the device.
    public func inputs(_ batch: Batch) throws -> Tensor {
        try Tensor(batch.images, shape: batch.imageShape).to(device)
    }

    /// The batch's targets with what each sample annotates; heatmaps when an objective needs them.
    public func targets(_ batch: Batch) throws -> Targets {
        // Label-like maps as (B, 1, spatial…) int64 on the device; the extra maps only for objectives that read them.
        func classMaps(_ values: [UInt8]?, _ field: TargetField? = nil) throws -> Tensor? {
            guard let values, field.map({ objective.needs.contains($0) }) ?? true else { return nil }
            return try Tensor(values.map { Int64($0) }, shape: [batch.batchSize, 1] + batch.spatialShape).to(device)
        }
        let annotated = zip(batch.hasLabels, batch.tasks).map { has, task in has ? task.labels.intersection(foregroundClasses) : [] }
        var t = Targets(labels: try classMaps(batch.labels), annotatedLabels: annotated, foregroundClasses: foregroundClasses,
                        caseIDs: batch.ids, cache: cache, trainingProgress: progress)
        t.unaugmentedLabels = try classMaps(batch.unaugmentedLabels, .unaugmentedLabels)
        if let pseudo = try classMaps(batch.pseudoLabels, .pseudoLabels) {
            t.pseudoLabels = pseudo
            t.pseudoClasses = batch.pseudoClasses
        }
        if !batch.landmarkNames.isEmpty {
            let k = batch.landmarkNames.count, rank = batch.spatialShape.count
            t.landmarkNames = batch.landmarkNames
            t.landmarkRelations = landmarkRelations
            t.landmarks = try Tensor(batch.landmarkCoordinates.map { Float($0) }, shape: [batch.batchSize, k, rank]).to(device)
            t.landmarkMask = try Tensor(batch.landmarkMask.map { UInt8($0 ? 1 : 0) }, shape: [batch.batchSize, k]).to(device, dtype: .bool)
            if let heatmap {
                t.heatmaps = try heatmap.render(coordinates: t.landmarks!, mask: t.landmarkMask!, spatial: batch.spatialShape, device: device)
            }
        }
        return t
    }

    /// The model's heads as float32, under bfloat16 autocast when mixed precision is on.
    public func forward(_ x: Tensor) throws -> Heads {
        guard autocast else { return try model.heads(x) }
        return try withAutocast(device: device, dtype: .bfloat16) { try model.heads(x) }.map { try $0.to(.float32) }
    }

    /// Each objective's loss, unweighted, in configuration order.
    public func losses(_ heads: Heads, _ targets: Targets) throws -> [Tensor] {
        try objective.values(heads: heads, targets: targets)
    }

    /// Writes the update for `losses` (one per objective, unweighted) into `.grad`: with the
    /// `sum` balancer one backward of Σ wₖLₖ; otherwise one gradient per objective (graph
    /// retained), combined by the balancer — or, on the steps where a balancer reuses an
    /// earlier decision (`every: n`), one backward of its linear combination. Nothing is written when a loss or the combined
    /// update is not finite (`applied` is then false and the trainer skips the step).
    public func apply(_ losses: [Tensor]) throws -> StepOutcome {
        guard losses.count == objective.terms.count else {
            throw TrainingError("a training step returned \(losses.count) losses for \(objective.terms.count) objectives")
        }
        let values = try losses.map { try $0.item() }
        let weights = objective.terms.map(\.weight)
        let total = zip(values, weights).reduce(0) { $0 + $1.0 * $1.1 }
        var finite = values.allSatisfy(\.isFinite)
        // What the balancer sees: under data parallelism the global batch's losses (the mean over
        // the ranks), so that every rank takes the same decision. The ranks also agree on a finite
        // step before any backward: collectives inside it (SyncBatchNorm) need every rank.
        var global = values
        let group = distributed.flatMap { $0.worldSize > 1 ? $0 : nil }
        if let d = group {
            let sums = try d.allReduce([finite ? 1 : 0] + (finite ? values : values.map { _ in 0 }), .sum)
            finite = sums[0] == Double(d.worldSize)
            global = sums.dropFirst().map { $0 / Double(d.worldSize) }
        }
        guard finite else { return StepOutcome(losses: values, total: total, applied: false) }
        if !balancer.needsGradients {
            // dwa scales the losses from their values alone; sum leaves them as configured.
            let factors = try balancer.lossWeights(global)
            try backward(losses, coefficients: factors.map { f in zip(weights, f).map { $0 * $1 } } ?? weights)
            return StepOutcome(losses: values, total: total, applied: true, weights: factors)
        }
        // A step between decisions of `every: n`: the update is Σ cₖ·∇(wₖLₖ), one backward.
        if let c = balancer.reusedCoefficients(objectives: losses.count) {
            try backward(losses, coefficients: zip(c, weights).map { $0 * $1 })
            return StepOutcome(losses: values, total: total, applied: true, weights: balancer.lastWeights)
        }
        var flat: [Tensor] = []
        for (k, (l, w)) in zip(losses, weights).enumerated() {
            let weighted = l * w
            let grads: [Tensor?] = weighted.requiresGrad
                ? try gradients(of: weighted, with: parameters, retainGraph: k < losses.count - 1, allowUnused: true)
                : Array(repeating: nil, count: parameters.count)
            let g = try Tensor.cat(try zip(grads, parameters).map { g, p in try (g ?? Tensor.zeros(like: p)).reshape([-1]) })
            // Data parallel: balance the global batch's gradients (each objective's averaged over the ranks).
            flat.append(try group.map { try $0.allReduce(g, .average) } ?? g)
        }
        let direction = try balancer.combine(flat, losses: global)
        guard try direction.isFinite().all().item() == 1 else { return StepOutcome(losses: values, total: total, applied: false) }
        var offset = 0
        for p in parameters {
            try p.setGrad(try direction.narrow(dim: 0, start: offset, length: p.count).reshape(p.shape))
            offset += p.count
        }
        var outcome = StepOutcome(losses: values, total: total, applied: true, weights: balancer.lastWeights)
        outcome.averaged = group != nil
        return outcome
    }
}

extension StepContext {
    /// Data-parallel training, after a step wrote its update (whatever the step, objectives or
    /// balancer): the ranks agree that the step applies — every rank wrote a finite update, else
    /// all skip it — and replace `.grad` by its average over the ranks, in flat buckets, so that
    /// clipping and the optimiser see the same update everywhere. The outcome's losses become the
    /// means over the ranks. One process: the outcome unchanged.
    public func synchronize(_ outcome: StepOutcome) throws -> StepOutcome {
        guard let d = distributed, d.worldSize > 1 else { return outcome }
        let n = Double(d.worldSize)
        let sums = try d.allReduce([outcome.applied ? 1 : 0, outcome.total] + outcome.losses, .sum)
        var o = outcome
        o.applied = sums[0] == n
        o.total = sums[1] / n
        o.losses = sums.dropFirst(2).map { $0 / n }
        // Balanced steps wrote the same average on every rank already.
        if o.applied && !o.averaged { try d.averageGradients(parameters) }
        return o
    }

    /// One backward of Σ cₖ·Lₖ (terms with a zero coefficient or no graph left out).
    func backward(_ losses: [Tensor], coefficients: [Double]) throws {
        var sum: Tensor?
        for (l, c) in zip(losses, coefficients) where c != 0 && l.requiresGrad {
            sum = try sum.map { try $0.adding(l * c) } ?? l * c
        }
        if let sum { try sum.backward() }
    }
}

/// What one training step reports: each objective's (unweighted) value, the weighted total,
/// whether an update was written (false: a non-finite loss or update; the step is skipped), and
/// the balancer's weights per objective when it has any (logged to TensorBoard).
public struct StepOutcome: Sendable {
    public var losses: [Double]
    public var total: Double
    public var applied: Bool
    public var weights: [Double]?
    /// The update is already the ranks' average (balanced global gradients): `synchronize` keeps it.
    public var averaged = false
    public init(losses: [Double], total: Double, applied: Bool, weights: [Double]? = nil) {
        self.losses = losses
        self.total = total
        self.applied = applied
        self.weights = weights
    }
}
