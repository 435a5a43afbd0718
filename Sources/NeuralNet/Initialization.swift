import Torch

/// Weight initialisers with PyTorch's defaults, drawing from `generator` (or the global one,
/// seeded by `Torch.manualSeed`).
public enum Initialization {
    /// U(−bound, bound), float32, as a trainable leaf.
    public static func uniform(_ shape: [Int], bound: Double, generator: Generator? = nil) throws -> Tensor {
        let u = try Tensor.rand(shape, generator: generator)
        return try (u * (2 * bound) - bound).requiringGrad()
    }

    /// PyTorch's default for Linear/Conv weights: kaiming_uniform with a = √5, i.e. bound 1/√fan_in.
    public static func defaultWeight(_ shape: [Int], fanIn: Int, generator: Generator? = nil) throws -> Tensor {
        try uniform(shape, bound: fanIn > 0 ? 1 / Double(fanIn).squareRoot() : 0, generator: generator)
    }

    /// He (Kaiming) normal, fan-in mode, for ReLU-family nets with negative slope `a`.
    public static func kaimingNormal(_ shape: [Int], fanIn: Int, a: Double = 0, generator: Generator? = nil) throws -> Tensor {
        let std = (2 / ((1 + a * a) * Double(Swift.max(fanIn, 1)))).squareRoot()
        return try (Tensor.randn(shape, generator: generator) * std).requiringGrad()
    }

    public static func constant(_ shape: [Int], _ value: Double) throws -> Tensor {
        try Tensor.full(shape, value).requiringGrad()
    }
}
