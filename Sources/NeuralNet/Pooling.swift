import Torch

/// 2D max pooling, as `nn.MaxPool2d` (no parameters; a slot in `Sequential`s that mirror PyTorch's).
public final class MaxPool2d: Module, UnaryLayer {
    public let kernel: Int, stride: Int, padding: Int

    public init(kernel: Int, stride: Int? = nil, padding: Int = 0) {
        self.kernel = kernel
        self.stride = stride ?? kernel
        self.padding = padding
        super.init()
    }

    public func callAsFunction(_ x: Tensor) throws -> Tensor {
        try x.maxPool(kernel: [kernel], stride: [stride], padding: [padding])
    }
}
