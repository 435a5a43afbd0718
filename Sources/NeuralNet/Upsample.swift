import Torch

/// Resizes the spatial dims by a scale factor or to a fixed size, as `nn.Upsample`.
public final class Upsample: Module, UnaryLayer {
    public let scale: [Double]?, size: [Int]?
    public let mode: InterpolationMode, alignCorners: Bool

    public init(scale: [Double], mode: InterpolationMode = .nearest, alignCorners: Bool = false) {
        self.scale = scale
        size = nil
        self.mode = mode
        self.alignCorners = alignCorners
        super.init()
    }

    public init(size: [Int], mode: InterpolationMode = .nearest, alignCorners: Bool = false) {
        scale = nil
        self.size = size
        self.mode = mode
        self.alignCorners = alignCorners
        super.init()
    }

    public func callAsFunction(_ x: Tensor) throws -> Tensor {
        if let size { return try x.interpolate(size: size, mode: mode, alignCorners: alignCorners) }
        return try x.interpolate(scale: scale!, mode: mode, alignCorners: alignCorners)
    }
}
