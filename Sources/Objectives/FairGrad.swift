import NeuralNet
import Torch

/// FairGrad (Ban & Ji 2024) with fairness parameter a: α ≥ 0 with GᵀGα = α^(−1/a) by bounded
/// least squares from α₀ = 1/K, d = Σ αₖgₖ. a = 2 is AGB without normalisation (the paper's
/// form); the same active-set, ridge (1e-12) and barrier (1e-8) keep zero gradients finite.
public final class FairGrad: Balancer {
    public let fairness: Double
    public let normalize: Bool
    /// The weights of the decision in force (the last solve; kept across reuse steps and resume).
    public var lastWeights: [Double]? { schedule.stored?.weights }
    var schedule: RecomputeSchedule
    public var every: Int { schedule.every }

    public init(fairness: Double = 2, normalize: Bool = false, every: Int = 1) {
        schedule = RecomputeSchedule(every: every)
        self.fairness = fairness
        self.normalize = normalize
    }

    public convenience init(options: Options) throws {
        self.init(fairness: try options.double("a", default: 2, requirement: "> 0") { $0 > 0 },
                  normalize: try options.bool("normalize", default: false),
                  every: try RecomputeSchedule(options: options).every)
    }

    public var name: String { "fairgrad" }
    public var needsGradients: Bool { true }

    public func combine(_ gradients: [Tensor], losses: [Double]) throws -> Tensor {
        try schedule.update(gradients) {
            let alpha = try Self.weights(gradients, power: 1 / fairness, normalize: normalize, owner: name)
            return (.init(coefficients: alpha, weights: alpha), try GradientGram.combine(gradients, weights: alpha))
        }.direction
    }

    public func reusedCoefficients(objectives: Int) -> [Double]? { schedule.takeIfReusing(count: objectives)?.coefficients }

    public func state() -> [String: ConfigValue] { schedule.state }
    public func load(state: [String: ConfigValue]) throws { try schedule.load(state, owner: name) }

    static func weights(_ gradients: [Tensor], power: Double, normalize: Bool, owner: String) throws -> [Double] {
        let gram = try GradientGram(gradients, owner: owner)
        var alpha = FairnessWeights(power: power).weights(gram: gram.gram, norms: gram.norms)
        if normalize {
            let s = alpha.reduce(0, +) + 1e-12
            alpha = alpha.map { $0 / s }
        }
        return alpha
    }
}
