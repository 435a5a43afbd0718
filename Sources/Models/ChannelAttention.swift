import NeuralNet
import Torch

/// CBAM channel attention: x·σ(MLP(avgpool x) + MLP(maxpool x)), MLP = 1×1 conv C→C/16, ReLU,
/// 1×1 conv C/16→C, both without bias (keys `fc1`, `fc2`).
final class ChannelAttention: Module, UnaryLayer {
    let fc1: Conv2d, fc2: Conv2d

    init(_ channels: Int, ratio: Int = 16) throws {
        guard channels >= ratio else { throw TorchError("ChannelAttention: \(channels) channels, fewer than the ratio \(ratio)") }
        fc1 = try Conv2d(channels, channels / ratio, kernelSize: 1, bias: false)
        fc2 = try Conv2d(channels / ratio, channels, kernelSize: 1, bias: false)
        super.init()
    }

    func callAsFunction(_ x: Tensor) throws -> Tensor {
        // One MLP pass over both pooled vectors (stacked on the batch dim), then summed.
        let n = x.shape[0]
        let pooled = try Tensor.cat([try x.mean(dims: [2, 3], keepDim: true), try x.max(dims: [2, 3], keepDim: true)], dim: 0)
        let mlp = try fc2(try fc1(pooled).relu())
        let gate = try (mlp.narrow(dim: 0, start: 0, length: n) + mlp.narrow(dim: 0, start: n, length: n)).sigmoid()
        return x * gate
    }
}
