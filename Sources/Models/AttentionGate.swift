import NeuralNet
import Torch

/// Additive attention gate (Oktay et al., 2018): α = σ(ψ(ReLU(W_x·x + W_g·up(g)))), output x·α.
final class AttentionGate: Module {
    let wx: any UnaryLayer, wg: any UnaryLayer, psi: any UnaryLayer

    init(_ spatial: Int, skip: Int, gate: Int, inner: Int) throws {
        wx = try Layers.conv(spatial, skip, inner, kernel: 1, bias: false)
        wg = try Layers.conv(spatial, gate, inner, kernel: 1)
        psi = try Layers.conv(spatial, inner, 1, kernel: 1)
        super.init()
    }

    func callAsFunction(skip x: Tensor, gate g: Tensor) throws -> Tensor {
        let size = Array(x.shape.dropFirst(2))
        let gu = try wg(g).interpolate(size: size, mode: .linear)
        let alpha = try psi(try (wx(x) + gu).relu()).sigmoid()
        return x * alpha
    }
}
