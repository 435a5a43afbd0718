import NeuralNet
import Torch

/// Normalisation after each convolution. `syncbatch`: batch norm over the global batch of a
/// data-parallel job (`SyncBatchNorm`; plain batch norm in one process).
public enum NormKind: String, Sendable, CaseIterable {
    case instance, batch, group, syncbatch
}

/// Builders that pick the 2D or 3D layer, so one model definition serves both.
enum Layers {
    /// Stage widths base·2^i capped at `max` (nnU-Net's caps: 512 in 2D, 320 in 3D).
    static func widths(_ spatial: Int, stages: Int, base: Int, max: Int?) -> [Int] {
        let cap = max ?? (spatial == 2 ? 512 : 320)
        return (0..<stages).map { Swift.min(base << $0, cap) }
    }

    static func conv(_ spatial: Int, _ cin: Int, _ cout: Int, kernel: Int, stride: Int = 1, bias: Bool = true) throws -> any UnaryLayer {
        let pad = kernel / 2
        return spatial == 2
            ? try Conv2d(cin, cout, kernelSize: kernel, stride: stride, padding: pad, bias: bias)
            : try Conv3d(cin, cout, kernelSize: kernel, stride: stride, padding: pad, bias: bias)
    }

    /// Per-axis kernel and stride (padding kernel/2 per axis).
    static func conv(_ spatial: Int, _ cin: Int, _ cout: Int, kernel: [Int], stride: [Int], bias: Bool = true) throws -> any UnaryLayer {
        let pad = kernel.map { $0 / 2 }
        return spatial == 2
            ? try Conv2d(cin, cout, kernelSize: kernel, stride: stride, padding: pad, bias: bias)
            : try Conv3d(cin, cout, kernelSize: kernel, stride: stride, padding: pad, bias: bias)
    }

    static func upConv(_ spatial: Int, _ cin: Int, _ cout: Int, factor: [Int]) throws -> any UnaryLayer {
        spatial == 2
            ? try ConvTranspose2d(cin, cout, kernelSize: factor, stride: factor, bias: false)
            : try ConvTranspose3d(cin, cout, kernelSize: factor, stride: factor, bias: false)
    }

    static func upConv(_ spatial: Int, _ cin: Int, _ cout: Int, factor: Int = 2) throws -> any UnaryLayer {
        spatial == 2
            ? try ConvTranspose2d(cin, cout, kernelSize: factor, stride: factor, bias: false)
            : try ConvTranspose3d(cin, cout, kernelSize: factor, stride: factor, bias: false)
    }

    static func norm(_ kind: NormKind, _ spatial: Int, _ channels: Int) throws -> any UnaryLayer {
        switch kind {
        case .instance: return spatial == 2 ? try InstanceNorm2d(channels, affine: true) : try InstanceNorm3d(channels, affine: true)
        case .batch: return spatial == 2 ? try BatchNorm2d(channels) : try BatchNorm3d(channels)
        case .group: return try GroupNorm(groups: Swift.min(8, channels), channels: channels)
        case .syncbatch: return try SyncBatchNorm(spatial: spatial, channels)
        }
    }
}

/// `convs` × (conv 3 – norm – LeakyReLU 0.01), the first conv optionally strided: nnU-Net's
/// stage (`StackedConvBlocks`).
final class ConvStage: Module, UnaryLayer {
    let convs: Sequential

    convenience init(_ spatial: Int, _ cin: Int, _ cout: Int, convs n: Int, stride: Int, norm: NormKind) throws {
        try self.init(spatial, cin, cout, convs: n, kernel: [Int](repeating: 3, count: spatial),
                      stride: [Int](repeating: stride, count: spatial), norm: norm)
    }

    /// Per-axis kernel and first-conv stride (nnU-Net plans: 1×3×3 kernels, 1×2×2 pooling on anisotropic axes).
    init(_ spatial: Int, _ cin: Int, _ cout: Int, convs n: Int, kernel: [Int], stride: [Int], norm: NormKind) throws {
        var layers: [any UnaryLayer] = []
        for i in 0..<n {
            layers.append(try Layers.conv(spatial, i == 0 ? cin : cout, cout, kernel: kernel,
                                          stride: i == 0 ? stride : [Int](repeating: 1, count: spatial)))
            layers.append(try Layers.norm(norm, spatial, cout))
            layers.append(LeakyReLU(negativeSlope: 0.01))
        }
        convs = Sequential(layers)
        super.init()
    }

    func callAsFunction(_ x: Tensor) throws -> Tensor { try convs(x) }
}

/// A network that returns named heads (`Heads`). Single-task segmentation networks implement
/// `outputs(_:)` (full-resolution logits first, then deep-supervision levels) and get one
/// `segmentation` head; multi-task networks override `headSpecs` and `heads(_:)`.
public protocol SegmentationModel: UnaryLayer {
    var spatialDims: Int { get }
    /// Channels of the `segmentation` head.
    var classes: Int { get }
    /// The input side must be divisible by this (2^(stages−1)).
    var sizeDivisor: Int { get }
    /// Per spatial axis (differs from `sizeDivisor` where pooling is anisotropic).
    var sizeDivisors: [Int] { get }
    /// Full-resolution segmentation logits first, then deep-supervision outputs when enabled.
    func outputs(_ x: Tensor) throws -> [Tensor]
    /// The heads `heads(_:)` returns, in order.
    var headSpecs: [HeadSpec] { get }
    func heads(_ x: Tensor) throws -> Heads
}

extension SegmentationModel {
    public var headSpecs: [HeadSpec] { [HeadSpec(name: Heads.segmentation, channels: classes, kind: .segmentation)] }

    public var sizeDivisors: [Int] { [Int](repeating: sizeDivisor, count: spatialDims) }

    public func heads(_ x: Tensor) throws -> Heads { Heads(Heads.segmentation, levels: try outputs(x)) }

    /// The full-resolution tensor of one head (prediction of that head).
    public func head(_ name: String, of x: Tensor) throws -> Tensor {
        try heads(x).require(name, by: "prediction")
    }

    func checkInput(_ x: Tensor, inChannels: Int) throws {
        guard x.rank == spatialDims + 2, x.shape[1] == inChannels else {
            throw TorchError("\(type(of: self)) expects (N, \(inChannels), \(spatialDims) spatial dims), got shape \(x.shape)")
        }
        let divisors = sizeDivisors
        if let axis = Array(x.shape.dropFirst(2)).indices.first(where: { x.shape[2 + $0] % divisors[$0] != 0 }) {
            throw TorchError("\(type(of: self)): spatial size \(x.shape[2 + axis]) (axis \(axis)) is not divisible by \(divisors[axis]) "
                             + "(2^(poolings on that axis)); pad or pick another patch size")
        }
    }
}
