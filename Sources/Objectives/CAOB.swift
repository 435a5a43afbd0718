import NeuralNet
import Torch

/// CAOB, HadBalance's conflict-aware objective balancing (METHODS §3.6): PGP purifies the
/// auxiliaries against the primary, then AGB weighs the purified gradients.
/// Options: PGP's `slack`, AGB's `normalize`, `anchorPrimary`, `anchorValue`, `useUnitGram`,
/// and `every` for both (projections and weights are decided on the same steps).
public final class CAOB: ProjectingBalancer {
    public let pgp: PGP
    public let agb: AGB
    public var lastProjected: [Int] { schedule.stored?.projected ?? [] }
    /// The weights of the decision in force (the last solve; kept across reuse steps and resume).
    public var lastWeights: [Double]? { schedule.stored?.weights }
    var schedule: RecomputeSchedule
    public var every: Int { schedule.every }

    public init(pgp: PGP = PGP(), agb: AGB = AGB()) {
        self.pgp = pgp
        self.agb = agb
        schedule = RecomputeSchedule(every: pgp.every)
    }

    public convenience init(options: Options) throws {
        self.init(pgp: try PGP(options: options), agb: try AGB(options: options))
    }

    public var name: String { "caob" }
    public var needsGradients: Bool { true }

    /// d = Σₖ αₖ·g̃ₖ with g̃₀ = g₀, g̃ₖ = gₖ − pₖ·g₀: linear in the original gradients with
    /// coefficients (α₀ − Σₖ αₖpₖ, α₁, …) — what `every: n` reuses (αₖ/‖g̃ₖ‖ with `useUnitGram`).
    public func combine(_ gradients: [Tensor], losses: [Double]) throws -> Tensor {
        try schedule.update(gradients) {
            let (purified, projected, p) = try pgp.purifyWithCoefficients(gradients)
            let (alpha, norms) = try agb.weights(purified)
            var c = agb.useUnitGram ? zip(alpha, norms).map { $1 > 0 ? $0 / $1 : 0 } : alpha
            c[0] -= (1..<c.count).reduce(0) { $0 + c[$1] * p[$1] }
            return (.init(coefficients: c, weights: alpha, projected: projected),
                    try GradientGram.combine(purified, weights: alpha, norms: agb.useUnitGram ? norms : nil))
        }.direction
    }

    public func reusedCoefficients(objectives: Int) -> [Double]? { schedule.takeIfReusing(count: objectives)?.coefficients }

    public func state() -> [String: ConfigValue] { schedule.state }
    public func load(state: [String: ConfigValue]) throws { try schedule.load(state, owner: name) }
}
