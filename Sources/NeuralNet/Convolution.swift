import Torch

/// N-d convolution with PyTorch's parameter layout (out, in/groups, k…) and initialisation.
/// `Conv1d`, `Conv2d` and `Conv3d` fix the number of spatial dims.
public class Convolution: Module, UnaryLayer {
    public var weight: Tensor { didSet { invalidateStructure() } }
    public var bias: Tensor? { didSet { invalidateStructure() } }
    public let stride: [Int], padding: [Int], dilation: [Int], groups: Int
    let spatialDims: Int

    init(spatial: Int, _ inChannels: Int, _ outChannels: Int, kernelSize: [Int], stride: [Int], padding: [Int],
         dilation: [Int], groups: Int, bias: Bool) throws {
        (weight, self.bias) = try Self.initialParameters(spatial: spatial, inChannels, outChannels, kernelSize: kernelSize,
                                                         groups: groups, bias: bias, transposed: false)
        self.stride = stride
        self.padding = padding
        self.dilation = dilation
        self.groups = groups
        spatialDims = spatial
        super.init()
    }

    /// PyTorch's layout and default initialisation: weight (out, in/groups, k…), or (in, out/groups, k…)
    /// when transposed, whose fan-in is then out/groups·∏k; bias with the same bound.
    static func initialParameters(spatial: Int, _ inChannels: Int, _ outChannels: Int, kernelSize: [Int], groups: Int,
                                  bias: Bool, transposed: Bool) throws -> (Tensor, Tensor?) {
        let k = try broadcast(kernelSize, spatial, "kernelSize")
        guard inChannels % groups == 0, outChannels % groups == 0 else {
            throw TorchError("in (\(inChannels)) and out (\(outChannels)) channels must be divisible by groups (\(groups))")
        }
        let shape = transposed ? [inChannels, outChannels / groups] : [outChannels, inChannels / groups]
        let fanIn = shape[1] * k.reduce(1, *)
        let weight = try Initialization.defaultWeight(shape + k, fanIn: fanIn)
        return (weight, bias ? try Initialization.defaultWeight([outChannels], fanIn: fanIn) : nil)
    }

    static func broadcast(_ v: [Int], _ n: Int, _ name: String) throws -> [Int] {
        if v.count == 1 { return Array(repeating: v[0], count: n) }
        guard v.count == n else { throw TorchError("\(name) needs 1 or \(n) values, got \(v)") }
        return v
    }

    public func callAsFunction(_ x: Tensor) throws -> Tensor {
        guard x.rank == spatialDims + 2 else {
            throw TorchError("\(type(of: self)) expects (N, C, \(spatialDims) spatial dims), got shape \(x.shape)")
        }
        return try x.conv(weight: weight, bias: bias, stride: stride, padding: padding, dilation: dilation, groups: groups)
    }
}

public final class Conv1d: Convolution {
    public init(_ inChannels: Int, _ outChannels: Int, kernelSize: Int, stride: Int = 1, padding: Int = 0,
                dilation: Int = 1, groups: Int = 1, bias: Bool = true) throws {
        try super.init(spatial: 1, inChannels, outChannels, kernelSize: [kernelSize], stride: [stride],
                       padding: [padding], dilation: [dilation], groups: groups, bias: bias)
    }
}

public final class Conv2d: Convolution {
    public init(_ inChannels: Int, _ outChannels: Int, kernelSize: [Int], stride: [Int] = [1], padding: [Int] = [0],
                dilation: [Int] = [1], groups: Int = 1, bias: Bool = true) throws {
        try super.init(spatial: 2, inChannels, outChannels, kernelSize: kernelSize, stride: stride,
                       padding: padding, dilation: dilation, groups: groups, bias: bias)
    }

    public convenience init(_ inChannels: Int, _ outChannels: Int, kernelSize: Int, stride: Int = 1, padding: Int = 0,
                            dilation: Int = 1, groups: Int = 1, bias: Bool = true) throws {
        try self.init(inChannels, outChannels, kernelSize: [kernelSize], stride: [stride], padding: [padding],
                      dilation: [dilation], groups: groups, bias: bias)
    }
}

public final class Conv3d: Convolution {
    public init(_ inChannels: Int, _ outChannels: Int, kernelSize: [Int], stride: [Int] = [1], padding: [Int] = [0],
                dilation: [Int] = [1], groups: Int = 1, bias: Bool = true) throws {
        try super.init(spatial: 3, inChannels, outChannels, kernelSize: kernelSize, stride: stride,
                       padding: padding, dilation: dilation, groups: groups, bias: bias)
    }

    public convenience init(_ inChannels: Int, _ outChannels: Int, kernelSize: Int, stride: Int = 1, padding: Int = 0,
                            dilation: Int = 1, groups: Int = 1, bias: Bool = true) throws {
        try self.init(inChannels, outChannels, kernelSize: [kernelSize], stride: [stride], padding: [padding],
                      dilation: [dilation], groups: groups, bias: bias)
    }
}

/// Transposed convolution; weight (in, out/groups, k…) as in PyTorch (whose fan-in is then out/groups·∏k).
public class TransposedConvolution: Module, UnaryLayer {
    public var weight: Tensor { didSet { invalidateStructure() } }
    public var bias: Tensor? { didSet { invalidateStructure() } }
    public let stride: [Int], padding: [Int], outputPadding: [Int], dilation: [Int], groups: Int
    let spatialDims: Int

    init(spatial: Int, _ inChannels: Int, _ outChannels: Int, kernelSize: [Int], stride: [Int], padding: [Int],
         outputPadding: [Int], dilation: [Int], groups: Int, bias: Bool) throws {
        (weight, self.bias) = try Convolution.initialParameters(spatial: spatial, inChannels, outChannels, kernelSize: kernelSize,
                                                               groups: groups, bias: bias, transposed: true)
        self.stride = stride
        self.padding = padding
        self.outputPadding = outputPadding
        self.dilation = dilation
        self.groups = groups
        spatialDims = spatial
        super.init()
    }

    public func callAsFunction(_ x: Tensor) throws -> Tensor {
        guard x.rank == spatialDims + 2 else {
            throw TorchError("\(type(of: self)) expects (N, C, \(spatialDims) spatial dims), got shape \(x.shape)")
        }
        return try x.convTransposed(weight: weight, bias: bias, stride: stride, padding: padding,
                                    outputPadding: outputPadding, dilation: dilation, groups: groups)
    }
}

public final class ConvTranspose2d: TransposedConvolution {
    public init(_ inChannels: Int, _ outChannels: Int, kernelSize: Int, stride: Int = 1, padding: Int = 0,
                outputPadding: Int = 0, dilation: Int = 1, groups: Int = 1, bias: Bool = true) throws {
        try super.init(spatial: 2, inChannels, outChannels, kernelSize: [kernelSize], stride: [stride], padding: [padding],
                       outputPadding: [outputPadding], dilation: [dilation], groups: groups, bias: bias)
    }

    /// Per-axis kernel and stride (an anisotropic U-Net's upsampling), no padding.
    public init(_ inChannels: Int, _ outChannels: Int, kernelSize: [Int], stride: [Int], bias: Bool = true) throws {
        try super.init(spatial: 2, inChannels, outChannels, kernelSize: kernelSize, stride: stride, padding: [0],
                       outputPadding: [0], dilation: [1], groups: 1, bias: bias)
    }
}

public final class ConvTranspose3d: TransposedConvolution {
    public init(_ inChannels: Int, _ outChannels: Int, kernelSize: Int, stride: Int = 1, padding: Int = 0,
                outputPadding: Int = 0, dilation: Int = 1, groups: Int = 1, bias: Bool = true) throws {
        try super.init(spatial: 3, inChannels, outChannels, kernelSize: [kernelSize], stride: [stride], padding: [padding],
                       outputPadding: [outputPadding], dilation: [dilation], groups: groups, bias: bias)
    }

    /// Per-axis kernel and stride (an anisotropic U-Net's upsampling), no padding.
    public init(_ inChannels: Int, _ outChannels: Int, kernelSize: [Int], stride: [Int], bias: Bool = true) throws {
        try super.init(spatial: 3, inChannels, outChannels, kernelSize: kernelSize, stride: stride, padding: [0],
                       outputPadding: [0], dilation: [1], groups: 1, bias: bias)
    }
}
