import NeuralNet
import Torch

/// PGP, "Slack AGP" of HadBalance (METHODS §3.6 step 3): each auxiliary gₖ (k ≥ 1) whose
/// projection coefficient on the ORIGINAL primary g₀ is below the slack,
/// ⟨gₖ, g₀⟩ < s·(‖g₀‖² + 1e-12), loses its g₀ component: gₖ ← gₖ − cₖ·g₀,
/// cₖ = ⟨gₖ, g₀⟩/(‖g₀‖² + 1e-12). The update is the plain sum of the purified gradients.
/// The README calls s a cosine threshold; the code (followed here) tests the coefficient.
public final class PGP: ProjectingBalancer {
    public let slack: Double
    public private(set) var lastProjected: [Int] = []
    public private(set) var lastWeights: [Double]?

    public init(slack: Double = -0.01) { self.slack = slack }

    public convenience init(options: Options) throws {
        self.init(slack: try options.double("slack", default: -0.01))
    }

    public var name: String { "pgp" }
    public var needsGradients: Bool { true }

    /// The purified gradients (primary unchanged) and the projected indices.
    public func purify(_ gradients: [Tensor]) throws -> (gradients: [Tensor], projected: [Int]) {
        guard let primary = gradients.first else { throw ObjectiveError("\(name): no gradients to combine") }
        let p64 = try primary.to(.float64)
        let denominator = try p64.multiplying(p64).sum().item() + 1e-12
        var out = [primary], projected: [Int] = []
        for (k, g) in gradients.enumerated().dropFirst() {
            guard g.shape == primary.shape else {
                throw ObjectiveError("\(name): gradient \(k) has shape \(g.shape), expected \(primary.shape) like gradient 0")
            }
            let dot = try g.to(.float64).multiplying(p64).sum().item()
            if dot < slack * denominator {
                out.append(try g.subtracting(primary * (dot / denominator)))
                projected.append(k)
            } else {
                out.append(g)
            }
        }
        return (out, projected)
    }

    public func combine(_ gradients: [Tensor], losses: [Double]) throws -> Tensor {
        let (purified, projected) = try purify(gradients)
        lastProjected = projected
        lastWeights = [Double](repeating: 1, count: gradients.count)
        return try GradientGram.combine(purified, weights: lastWeights!)
    }
}
