import Geometry
import NeuralNet
import Torch

/// PCGrad (Yu et al., "Gradient Surgery for Multi-Task Learning", NeurIPS 2020): for each
/// objective i, in a random order over the others j, when gᵢ conflicts with gⱼ (gᵢ·gⱼ < 0)
/// project gᵢ onto gⱼ's normal plane, gᵢ ← gᵢ − (gᵢ·gⱼ / ‖gⱼ‖²)·gⱼ; always against the
/// original gⱼ. The update is the sum (paper) or the mean (`reduction: mean`) of the projected
/// gradients. The random order comes from a seeded generator whose state is checkpointed.
public final class PCGrad: Balancer {
    public enum Reduction: String, CaseIterable { case sum, mean }
    public let reduction: Reduction
    private var rng: SeededGenerator

    public init(reduction: Reduction = .sum, seed: UInt64 = 0) {
        self.reduction = reduction
        rng = SeededGenerator(seed: seed)
    }

    public convenience init(options: Options) throws {
        let r = try options.string("reduction", default: "sum", allowed: Reduction.allCases.map(\.rawValue))
        let seed = try options.int("seed", default: 0, requirement: "≥ 0") { $0 >= 0 }
        self.init(reduction: Reduction(rawValue: r)!, seed: UInt64(seed))
    }

    public var name: String { "pcgrad" }
    public var needsGradients: Bool { true }

    public func combine(_ gradients: [Tensor], losses: [Double]) throws -> Tensor {
        // A projected gᵢ stays a combination Σₘ cᵢₘ·gₘ of the original gradients, so every dot
        // product comes from one float64 Gram and the update is one weighted sum on the device.
        let K = gradients.count
        let gram = try GradientGram.products(gradients, dtype: .float64, owner: name)
        var beta = [Double](repeating: 0, count: K)
        for i in 0..<K {
            var c = [Double](repeating: 0, count: K)
            c[i] = 1
            var order = Array(0..<K)
            order.shuffle(using: &rng)
            for j in order where j != i {
                let d = (0..<K).reduce(0) { $0 + c[$1] * gram[$1 * K + j] }
                if d < 0, gram[j * K + j] > 0 { c[j] -= d / gram[j * K + j] }
            }
            for m in 0..<K { beta[m] += c[m] }
        }
        if reduction == .mean { beta = beta.map { $0 / Double(K) } }
        return try GradientGram.combine(gradients, weights: beta)
    }

    public func state() -> [String: ConfigValue] { ["rng": .string(String(rng.state))] }

    public func load(state: [String: ConfigValue]) throws {
        guard case .string(let s)? = state["rng"], let v = UInt64(s) else {
            throw ObjectiveError("pcgrad state: expected {\"rng\": \"<UInt64>\"}, got \(state)")
        }
        rng.state = v
    }
}
