import NeuralNet
import Torch

/// CBAM spatial attention: x·σ(conv7×7([mean_c x, max_c x])), no bias (key `conv1`).
final class SpatialAttention: Module, UnaryLayer {
    let conv1: Conv2d

    init(kernel: Int = 7) throws {
        conv1 = try Conv2d(2, 1, kernelSize: kernel, padding: kernel / 2, bias: false)
        super.init()
    }

    func callAsFunction(_ x: Tensor) throws -> Tensor {
        let pooled = try Tensor.cat([try x.mean(dims: [1], keepDim: true), try x.max(dims: [1], keepDim: true)], dim: 1)
        return x * (try conv1(pooled).sigmoid())
    }
}
