import Torch

/// Zeroes elements with probability `p` in training mode; identity in evaluation mode.
public final class Dropout: Module, UnaryLayer {
    public let p: Double
    public init(p: Double = 0.5) throws {
        guard (0...1).contains(p) else { throw TorchError("Dropout probability must be in [0, 1], got \(p)") }
        self.p = p
        super.init()
    }
    public func callAsFunction(_ x: Tensor) throws -> Tensor { try x.dropout(p: p, training: training) }
}
