import NeuralNet
import Torch

/// MGDA (Désidéri 2012; Sener & Koltun 2018, MGDA-UB's solver): the min-norm point of the
/// convex hull of the gradients, α on the simplex minimising ‖Σ αₖgₖ‖², by Frank–Wolfe with
/// exact line search on the Gram matrix, started from the best pair's closed form.
public final class MGDA: Balancer {
    public let maxIterations: Int
    public let tolerance: Double
    /// The weights of the decision in force (the last solve; kept across reuse steps and resume).
    public var lastWeights: [Double]? { schedule.stored?.weights }
    var schedule: RecomputeSchedule
    public var every: Int { schedule.every }

    public init(maxIterations: Int = 250, tolerance: Double = 1e-6, every: Int = 1) {
        schedule = RecomputeSchedule(every: every)
        self.maxIterations = maxIterations
        self.tolerance = tolerance
    }

    public convenience init(options: Options) throws {
        self.init(maxIterations: try options.int("maxIterations", default: 250, requirement: "≥ 1") { $0 >= 1 },
                  tolerance: try options.double("tolerance", default: 1e-6, requirement: "> 0") { $0 > 0 },
                  every: try RecomputeSchedule(options: options).every)
    }

    public var name: String { "mgda" }
    public var needsGradients: Bool { true }

    /// min over γ ∈ [0, 1] of ‖γu + (1−γ)v‖² from uu = ‖u‖², uv = ⟨u, v⟩, vv = ‖v‖²: (γ, value).
    static func lineSearch(uu: Double, uv: Double, vv: Double) -> (Double, Double) {
        let denominator = uu + vv - 2 * uv
        let gamma = denominator > 0 ? Swift.min(Swift.max((vv - uv) / denominator, 0), 1) : (uu <= vv ? 1 : 0)
        return (gamma, gamma * gamma * uu + 2 * gamma * (1 - gamma) * uv + (1 - gamma) * (1 - gamma) * vv)
    }

    /// The simplex weights of the min-norm point for Gram `M`.
    public func weights(gram M: [[Double]]) -> [Double] {
        let K = M.count
        guard K > 1 else { return [Double](repeating: 1, count: K) }
        var alpha = [Double](repeating: 0, count: K)
        var best = Double.infinity
        for i in 0..<K {
            for j in (i + 1)..<K {
                let (gamma, value) = Self.lineSearch(uu: M[i][i], uv: M[i][j], vv: M[j][j])
                if value < best {
                    best = value
                    alpha = [Double](repeating: 0, count: K)
                    alpha[i] = gamma; alpha[j] = 1 - gamma
                }
            }
        }
        for _ in 0..<maxIterations {
            let Ma = (0..<K).map { i in (0..<K).reduce(0) { $0 + M[i][$1] * alpha[$1] } }
            let t = (0..<K).min { Ma[$0] < Ma[$1] }!
            let aMa = (0..<K).reduce(0) { $0 + alpha[$1] * Ma[$1] }
            // Move from the current point towards vertex t: γ on the current point.
            let (gamma, _) = Self.lineSearch(uu: aMa, uv: Ma[t], vv: M[t][t])
            var next = alpha.map { $0 * gamma }
            next[t] += 1 - gamma
            let change = zip(next, alpha).reduce(0) { $0 + Swift.abs($1.0 - $1.1) }
            alpha = next
            if change < tolerance { break }
        }
        return alpha
    }

    public func combine(_ gradients: [Tensor], losses: [Double]) throws -> Tensor {
        try schedule.update(gradients) {
            let alpha = weights(gram: try GradientGram(gradients, ridge: 0, owner: name).gram)
            return (.init(coefficients: alpha, weights: alpha), try GradientGram.combine(gradients, weights: alpha))
        }.direction
    }

    public func reusedCoefficients(objectives: Int) -> [Double]? { schedule.takeIfReusing(count: objectives)?.coefficients }

    public func state() -> [String: ConfigValue] { schedule.state }
    public func load(state: [String: ConfigValue]) throws { try schedule.load(state, owner: name) }
}
