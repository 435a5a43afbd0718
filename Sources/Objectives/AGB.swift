import NeuralNet
import Torch

/// AGB, HadBalance's adaptive gradient balancing (METHODS §3.6 step 4): α ≥ 0 with
/// Gα = 1/√(α + 1e-8) on the Gram of the active gradients (FairGrad with a = 2 plus active
/// set, ridge 1e-12 and barrier), then d = Σ αₖgₖ. `normalize` (default true, as the README
/// advises) scales α to sum 1 so it does not rescale the learning rate; `anchorPrimary` fixes
/// α₀ = `anchorValue`; `useUnitGram` uses unit gradients for the Gram and the direction.
public final class AGB: Balancer {
    public let normalize: Bool
    public let anchorPrimary: Bool
    public let anchorValue: Double
    public let useUnitGram: Bool
    public private(set) var lastWeights: [Double]?

    public init(normalize: Bool = true, anchorPrimary: Bool = false, anchorValue: Double = 1, useUnitGram: Bool = false) {
        self.normalize = normalize
        self.anchorPrimary = anchorPrimary
        self.anchorValue = anchorValue
        self.useUnitGram = useUnitGram
    }

    public convenience init(options: Options) throws {
        self.init(normalize: try options.bool("normalize", default: true),
                  anchorPrimary: try options.bool("anchorPrimary", default: false),
                  anchorValue: try options.double("anchorValue", default: 1, requirement: "> 0") { $0 > 0 },
                  useUnitGram: try options.bool("useUnitGram", default: false))
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

    public func combine(_ gradients: [Tensor], losses: [Double]) throws -> Tensor {
        let (alpha, norms) = try weights(gradients)
        lastWeights = alpha
        return try GradientGram.combine(gradients, weights: alpha, norms: useUnitGram ? norms : nil)
    }
}
