import NeuralNet
import Torch

/// PGP, "Slack AGP" of HadBalance (METHODS §3.6 step 3): each auxiliary gₖ (k ≥ 1) whose
/// projection coefficient on the ORIGINAL primary g₀ is below the slack,
/// ⟨gₖ, g₀⟩ < s·(‖g₀‖² + 1e-12), loses its g₀ component: gₖ ← gₖ − cₖ·g₀,
/// cₖ = ⟨gₖ, g₀⟩/(‖g₀‖² + 1e-12). The update is the plain sum of the purified gradients.
/// The README calls s a cosine threshold; the code (followed here) tests the coefficient.
/// `every` (1) decides the projections every n-th step and reuses their coefficients cₖ between.
public final class PGP: ProjectingBalancer {
    public let slack: Double
    public private(set) var lastProjected: [Int] = []
    public private(set) var lastWeights: [Double]?
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

    /// The purified gradients (primary unchanged) and the projected indices, deciding the
    /// projections afresh or reusing the stored coefficients as `every` says; records them.
    func purifyOnSchedule(_ gradients: [Tensor]) throws -> (gradients: [Tensor], projected: [Int]) {
        if let c = schedule.reusable(count: gradients.count) {
            // Stored coefficients: 0 is "not projected" (a projection by 0 is the identity anyway).
            let out = try gradients.enumerated().map { k, g in k > 0 && c[k] != 0 ? try g.subtracting(gradients[0] * c[k]) : g }
            lastProjected = c.indices.filter { $0 > 0 && c[$0] != 0 }
            return (out, lastProjected)
        }
        let (out, projected, coefficients) = try purifyWithCoefficients(gradients)
        schedule.stored = coefficients
        lastProjected = projected
        return (out, projected)
    }

    /// The purified gradients (primary unchanged) and the projected indices.
    public func purify(_ gradients: [Tensor]) throws -> (gradients: [Tensor], projected: [Int]) {
        let (out, projected, _) = try purifyWithCoefficients(gradients)
        return (out, projected)
    }

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

    public func combine(_ gradients: [Tensor], losses: [Double]) throws -> Tensor {
        let (purified, _) = try purifyOnSchedule(gradients)
        lastWeights = [Double](repeating: 1, count: gradients.count)
        return try GradientGram.combine(purified, weights: lastWeights!)
    }

    public func state() -> [String: ConfigValue] { schedule.state }
    public func load(state: [String: ConfigValue]) throws { try schedule.load(state, owner: name) }
}
