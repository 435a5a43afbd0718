import Torch

/// y = x·Wᵀ + b, weight (out, in) as in PyTorch.
public final class Linear: Module, UnaryLayer {
    public var weight: Tensor { didSet { invalidateStructure() } }
    public var bias: Tensor? { didSet { invalidateStructure() } }

    public init(_ inFeatures: Int, _ outFeatures: Int, bias: Bool = true) throws {
        weight = try Initialization.defaultWeight([outFeatures, inFeatures], fanIn: inFeatures)
        self.bias = bias ? try Initialization.defaultWeight([outFeatures], fanIn: inFeatures) : nil
        super.init()
    }

    public func callAsFunction(_ x: Tensor) throws -> Tensor { try x.linear(weight: weight, bias: bias) }
}
