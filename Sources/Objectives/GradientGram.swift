import NeuralNet
import Torch

/// Inner products of per-objective gradients for the Gram-based balancers: the Gram matrix
/// accumulated in float32 (as the official AGB), zero in rows and columns of inactive
/// gradients (norm ≤ float32 tiny), a ridge on the diagonal, then read as float64.
struct GradientGram {
    let gram: [[Double]]
    let norms: [Double]

    init(_ gradients: [Tensor], ridge: Double = 1e-12, unit: Bool = false, owner: String) throws {
        let K = gradients.count
        let raw = try Self.products(gradients, dtype: .float32, owner: owner)
        let tiny = Double(Float.leastNormalMagnitude)
        let norms = (0..<K).map { k -> Double in
            let n = Swift.max(raw[k * K + k], 0).squareRoot()
            return n <= tiny ? 0 : n
        }
        var gram = [[Double]](repeating: [Double](repeating: 0, count: K), count: K)
        for i in 0..<K {
            for j in 0..<K where norms[i] > 0 && norms[j] > 0 {
                gram[i][j] = unit ? raw[i * K + j] / (norms[i] * norms[j]) : raw[i * K + j]
            }
            gram[i][i] += ridge
        }
        self.gram = gram
        self.norms = norms
    }

    /// Every ⟨gᵢ, gⱼ⟩ (K×K, row-major) from one matrix multiply accumulated in `dtype`, as float64.
    static func products(_ gradients: [Tensor], dtype: DType, owner: String) throws -> [Double] {
        guard let first = gradients.first else { throw ObjectiveError("\(owner): no gradients to combine") }
        for (k, g) in gradients.enumerated() where g.shape != first.shape {
            throw ObjectiveError("\(owner): gradient \(k) has shape \(g.shape), expected \(first.shape) like gradient 0")
        }
        let G = try Tensor.stack(gradients.map { try $0.reshape([-1]).to(first.device, dtype: dtype) })
        return try G.matmul(G.transposed(0, 1)).to(.cpu, dtype: .float64).doubles()
    }

    /// ‖gₖ‖ in float32, 0 at or below float32 tiny (as in the Gram).
    static func norms(_ gradients: [Tensor]) throws -> [Double] {
        try gradients.map {
            let n = try $0.to(.float32).multiplying($0.to(.float32)).sum().to(.float64).item().squareRoot()
            return n <= Double(Float.leastNormalMagnitude) ? 0 : n
        }
    }

    /// d = Σ αₖ·gₖ (unit gradients when `unit`), in the gradients' dtype and device.
    static func combine(_ gradients: [Tensor], weights: [Double], norms: [Double]? = nil) throws -> Tensor {
        var d = try Tensor.zeros(like: gradients[0])
        for (k, g) in gradients.enumerated() {
            var w = weights[k]
            if let norms { w = norms[k] > 0 ? w / norms[k] : 0 }
            if w != 0 { d = try d.adding(g * w) }
        }
        return d
    }
}

/// A balancer that projects some gradients before combining them (pgp, caob).
public protocol ProjectingBalancer: Balancer {
    /// The objectives (indices, primary = 0) whose gradients the last `combine` projected.
    var lastProjected: [Int] { get }
}
