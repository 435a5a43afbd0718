import Torch

/// Applies layers in order; their keys are "0", "1", … as in `nn.Sequential`.
public final class Sequential: Module, UnaryLayer {
    public var layers: [any UnaryLayer] { didSet { invalidateStructure() } }

    public init(_ layers: [any UnaryLayer]) {
        self.layers = layers
        super.init()
    }

    public convenience init(_ layers: any UnaryLayer...) { self.init(layers) }

    public func callAsFunction(_ x: Tensor) throws -> Tensor {
        var y = x
        for layer in layers { y = try layer(y) }
        return y
    }

    // nn.Sequential keys children by index directly ("0.weight", not "layers.0.weight").
    public override func namedChildren() -> [(name: String, module: Module)] {
        layers.enumerated().map { ("\($0.offset)", $0.element) }
    }
}

/// Returns its input.
public final class Identity: Module, UnaryLayer {
    public override init() { super.init() }
    public func callAsFunction(_ x: Tensor) throws -> Tensor { x }
}
