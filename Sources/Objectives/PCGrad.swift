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
        guard !gradients.isEmpty else { throw ObjectiveError("pcgrad: no gradients to combine") }
        // Dot products on the CPU in float64: the decisions (sign tests) must not depend on the device.
        let g = try gradients.map { try $0.to(.cpu, dtype: .float64) }
        let norms2 = try g.map { try $0.multiplying($0).sum().item() }
        var total: Tensor?
        for i in g.indices {
            var gi = g[i]
            var order = Array(g.indices)
            order.shuffle(using: &rng)
            for j in order where j != i {
                let d = try gi.multiplying(g[j]).sum().item()
                if d < 0, norms2[j] > 0 { gi = try gi.subtracting(g[j] * (d / norms2[j])) }
            }
            total = try total.map { try $0.adding(gi) } ?? gi
        }
        var d = total!
        if reduction == .mean { d = d / Double(g.count) }
        return try d.to(gradients[0].device, dtype: gradients[0].dtype)
    }

    public func state() -> [String: ConfigValue] { ["rng": .string(String(rng.state))] }

    public func load(state: [String: ConfigValue]) throws {
        guard case .string(let s)? = state["rng"], let v = UInt64(s) else {
            throw ObjectiveError("pcgrad state: expected {\"rng\": \"<UInt64>\"}, got \(state)")
        }
        rng.state = v
    }
}
