import NeuralNet
import Torch

/// PGP, "Slack AGP" of HadBalance (METHODS §3.6 step 3): each auxiliary gₖ (k ≥ 1) whose
/// projection coefficient on the ORIGINAL primary g₀ is below the slack,
/// ⟨gₖ, g₀⟩ < s·(‖g₀‖² + 1e-12), loses its g₀ component: gₖ ← gₖ − cₖ·g₀,
/// cₖ = ⟨gₖ, g₀⟩/(‖g₀‖² + 1e-12). The update is the plain sum of the purified gradients.
/// The README calls s a cosine threshold; the code (followed here) tests the coefficient.
/// `every` (1) decides the projections every n-th step and reuses the update's coefficients between.
public final class PGP: ProjectingBalancer {
    public let slack: Double
    public var lastProjected: [Int] { schedule.stored?.projected ?? [] }
    /// The weights of the decision in force (the last solve; kept across reuse steps and resume).
    public var lastWeights: [Double]? { schedule.stored?.weights }
    var schedule: RecomputeSchedule
    public var every: Int { schedule.every }

    public init(slack: Double = -0.01, every: Int = 1) {
        self.slack = slack
        schedule = RecomputeSchedule(every: every)
    }

    public convenience init(options: Options) throws {
        self.init(slack: try options.double("slack", default: -0.01), every: try RecomputeSchedule(options: options).every)
    }

    public var name: String { "pgp" }
    public var needsGradients: Bool { true }

    /// The purified gradients (primary unchanged) and the projected indices.
    public func purify(_ gradients: [Tensor]) throws -> (gradients: [Tensor], projected: [Int]) {
        let (out, projected, _) = try purifyWithCoefficients(gradients)
        return (out, projected)
    }

    /// Also the projection coefficients cₖ (0 where not projected, and for the primary).
    func purifyWithCoefficients(_ gradients: [Tensor]) throws -> (gradients: [Tensor], projected: [Int], coefficients: [Double]) {
        guard let primary = gradients.first else { throw ObjectiveError("\(name): no gradients to combine") }
        let p64 = try primary.to(.float64)
        let denominator = try p64.multiplying(p64).sum().item() + 1e-12
        var out = [primary], projected: [Int] = [], coefficients = [0.0]
        for (k, g) in gradients.enumerated().dropFirst() {
            guard g.shape == primary.shape else {
                throw ObjectiveError("\(name): gradient \(k) has shape \(g.shape), expected \(primary.shape) like gradient 0")
            }
            let dot = try g.to(.float64).multiplying(p64).sum().item()
            if dot < slack * denominator {
                out.append(try g.subtracting(primary * (dot / denominator)))
                projected.append(k)
                coefficients.append(dot / denominator)
            } else {
                out.append(g)
                coefficients.append(0)
            }
        }
        return (out, projected, coefficients)
    }

    /// d = Σₖ g̃ₖ = (1 − Σₖ cₖ)·g₀ + Σ_{k≥1} gₖ: the reused coefficients of `every: n`.
    public func combine(_ gradients: [Tensor], losses: [Double]) throws -> Tensor {
        try schedule.update(gradients) {
            let (purified, projected, c) = try purifyWithCoefficients(gradients)
            let ones = [Double](repeating: 1, count: gradients.count)
            var linear = ones
            linear[0] = 1 - c.reduce(0, +)
            return (.init(coefficients: linear, weights: ones, projected: projected), try GradientGram.combine(purified, weights: ones))
        }.direction
    }

    public func reusedCoefficients(objectives: Int) -> [Double]? { schedule.takeIfReusing(count: objectives)?.coefficients }

    public func state() -> [String: ConfigValue] { schedule.state }
    public func load(state: [String: ConfigValue]) throws { try schedule.load(state, owner: name) }
}
