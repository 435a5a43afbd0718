import NeuralNet
import Torch

/// AGB, HadBalance's adaptive gradient balancing (METHODS §3.6 step 4): α ≥ 0 with
/// Gα = 1/√(α + 1e-8) on the Gram of the active gradients (FairGrad with a = 2 plus active
/// set, ridge 1e-12 and barrier), then d = Σ αₖgₖ. `normalize` (default true, as the README
/// advises) scales α to sum 1 so it does not rescale the learning rate; `anchorPrimary` fixes
/// α₀ = `anchorValue`; `useUnitGram` uses unit gradients for the Gram and the direction;
/// `every` (1) solves every n-th step and reuses the coefficients in between.
public final class AGB: Balancer {
    public let normalize: Bool
    public let anchorPrimary: Bool
    public let anchorValue: Double
    public let useUnitGram: Bool
    /// The weights of the decision in force (the last solve; kept across reuse steps and resume).
    public var lastWeights: [Double]? { schedule.stored?.weights }
    var schedule: RecomputeSchedule
    public var every: Int { schedule.every }

    public init(normalize: Bool = true, anchorPrimary: Bool = false, anchorValue: Double = 1, useUnitGram: Bool = false,
                every: Int = 1) {
        schedule = RecomputeSchedule(every: every)
        self.normalize = normalize
        self.anchorPrimary = anchorPrimary
        self.anchorValue = anchorValue
        self.useUnitGram = useUnitGram
    }

    public convenience init(options: Options) throws {
        self.init(normalize: try options.bool("normalize", default: true),
                  anchorPrimary: try options.bool("anchorPrimary", default: false),
                  anchorValue: try options.double("anchorValue", default: 1, requirement: "> 0") { $0 > 0 },
                  useUnitGram: try options.bool("useUnitGram", default: false),
                  every: try RecomputeSchedule(options: options).every)
    }

    public var name: String { "agb" }
    public var needsGradients: Bool { true }

    /// α for these gradients (objective 0 the primary).
    public func weights(_ gradients: [Tensor]) throws -> (weights: [Double], norms: [Double]) {
        let gram = try GradientGram(gradients, unit: useUnitGram, owner: name)
        var solver = FairnessWeights(power: 0.5)
        if anchorPrimary { solver.anchor = 0; solver.anchorValue = anchorValue }
        var alpha = solver.weights(gram: gram.gram, norms: gram.norms)
        if normalize {
            let s = alpha.reduce(0, +) + 1e-12
            alpha = alpha.map { $0 / s }
        }
        return (alpha, gram.norms)
    }

    /// With `useUnitGram`, the reused coefficients are αₖ/‖gₖ‖ with the norms of the deciding step.
    public func combine(_ gradients: [Tensor], losses: [Double]) throws -> Tensor {
        try schedule.update(gradients) {
            let (alpha, norms) = try weights(gradients)
            let c = useUnitGram ? zip(alpha, norms).map { $1 > 0 ? $0 / $1 : 0 } : alpha
            return (.init(coefficients: c, weights: alpha),
                    try GradientGram.combine(gradients, weights: alpha, norms: useUnitGram ? norms : nil))
        }.direction
    }

    public func reusedCoefficients(objectives: Int) -> [Double]? { schedule.takeIfReusing(count: objectives)?.coefficients }

    public func state() -> [String: ConfigValue] { schedule.state }
    public func load(state: [String: ConfigValue]) throws { try schedule.load(state, owner: name) }
}
