import NeuralNet
import Torch

/// Nash-MTL (Navon et al. 2022) as the bargaining condition GᵀGα = 1/α, α > 0, solved by the
/// same bounded least squares as FairGrad (it is FairGrad with a = 1), d = Σ αₖgₖ.
public final class NashMTL: Balancer {
    public let normalize: Bool
    /// The weights of the decision in force (the last solve; kept across reuse steps and resume).
    public var lastWeights: [Double]? { schedule.stored?.weights }
    var schedule: RecomputeSchedule
    public var every: Int { schedule.every }

    public init(normalize: Bool = false, every: Int = 1) {
        self.normalize = normalize
        schedule = RecomputeSchedule(every: every)
    }

    public convenience init(options: Options) throws {
        self.init(normalize: try options.bool("normalize", default: false), every: try RecomputeSchedule(options: options).every)
    }

    public var name: String { "nash-mtl" }
    public var needsGradients: Bool { true }

    public func combine(_ gradients: [Tensor], losses: [Double]) throws -> Tensor {
        try schedule.update(gradients) {
            let alpha = try FairGrad.weights(gradients, power: 1, normalize: normalize, owner: name)
            return (.init(coefficients: alpha, weights: alpha), try GradientGram.combine(gradients, weights: alpha))
        }.direction
    }

    public func reusedCoefficients(objectives: Int) -> [Double]? { schedule.takeIfReusing(count: objectives)?.coefficients }

    public func state() -> [String: ConfigValue] { schedule.state }
    public func load(state: [String: ConfigValue]) throws { try schedule.load(state, owner: name) }
}
