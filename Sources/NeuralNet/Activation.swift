import Torch

public final class ReLU: Module, UnaryLayer {
    public override init() { super.init() }
    public func callAsFunction(_ x: Tensor) throws -> Tensor { try x.relu() }
}

public final class LeakyReLU: Module, UnaryLayer {
    public let negativeSlope: Double
    public init(negativeSlope: Double = 0.01) {
        self.negativeSlope = negativeSlope
        super.init()
    }
    public func callAsFunction(_ x: Tensor) throws -> Tensor { try x.leakyRelu(slope: negativeSlope) }
}

public final class GELU: Module, UnaryLayer {
    public let approximate: Bool
    public init(approximate: Bool = false) {
        self.approximate = approximate
        super.init()
    }
    public func callAsFunction(_ x: Tensor) throws -> Tensor { try x.gelu(approximate: approximate) }
}

public final class Sigmoid: Module, UnaryLayer {
    public override init() { super.init() }
    public func callAsFunction(_ x: Tensor) throws -> Tensor { try x.sigmoid() }
}

public final class Tanh: Module, UnaryLayer {
    public override init() { super.init() }
    public func callAsFunction(_ x: Tensor) throws -> Tensor { try x.tanh() }
}
