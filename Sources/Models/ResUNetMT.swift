import NeuralNet
import Torch

/// BaBLoss's multi-task network "mtnet" (METHODS §5.2, a [reconstruction]: the official
/// `networks/` package is not public). A residual U-Net encoder shared by two task decoders, as
/// the author's public ResUnet3D: in_conv = DoubleConv(in→c, stride 2) at 1/2, then three
/// residual layers of `blocks` BasicBlocks (c→2c, 2c→4c, 4c→8c at 1/4, 1/8, 1/16). Each decoder
/// upsamples (bi/trilinear ×2), concatenates the skip and applies a DoubleConv, ending with
/// DoubleConv(c→n_out) at full resolution. The last op of each head is norm + ReLU, so outputs are
/// raw and ≥ 0 (BaBLoss tests "≠ 0" and "> 0" on them); losses apply their own softmax.
public final class ResUNetMT: Module, SegmentationModel {
    public let spatialDims: Int, classes: Int, inChannels: Int
    let inConv: DoubleConv
    let layer1: Sequential, layer2: Sequential, layer3: Sequential
    /// One decoder per head, keyed by the head's name (`decoders.heatmaps.*` in the state dict).
    let decoders: [String: ResDecoder]
    public let headSpecs: [HeadSpec]

    /// `tasks`: the heads after `segmentation` (BaBLoss: `heatmaps`, one channel per landmark).
    public init(spatialDims: Int, inChannels: Int, classes: Int, tasks: [HeadSpec], baseWidth: Int = 32, blocks: Int = 3,
                norm: NormKind = .batch) throws {
        guard spatialDims == 2 || spatialDims == 3 else { throw TorchError("ResUNetMT: spatialDims must be 2 or 3") }
        guard baseWidth >= 1, blocks >= 1, inChannels >= 1, classes >= 1 else {
            throw TorchError("ResUNetMT: baseWidth, blocks, inChannels and classes must be positive")
        }
        let specs = [HeadSpec(name: Heads.segmentation, channels: classes, kind: .segmentation)] + tasks
        guard Set(specs.map(\.name)).count == specs.count else { throw TorchError("ResUNetMT: head names must be distinct, got \(specs.map(\.name))") }
        if let bad = specs.first(where: { $0.channels < 1 }) { throw TorchError("ResUNetMT: head '\(bad.name)' needs ≥ 1 channel") }
        let c = baseWidth
        self.spatialDims = spatialDims
        self.classes = classes
        self.inChannels = inChannels
        headSpecs = specs
        inConv = try DoubleConv(spatialDims, inChannels, c, stride: 2, norm: norm)
        layer1 = try Self.residualLayer(spatialDims, c, 2 * c, blocks: blocks, norm: norm)
        layer2 = try Self.residualLayer(spatialDims, 2 * c, 4 * c, blocks: blocks, norm: norm)
        layer3 = try Self.residualLayer(spatialDims, 4 * c, 8 * c, blocks: blocks, norm: norm)
        var built: [String: ResDecoder] = [:]
        for spec in specs { built[spec.name] = try ResDecoder(spatialDims, width: c, outChannels: spec.channels, norm: norm) }
        decoders = built
        super.init()
    }

    /// `blocks` BasicBlocks, the first strided by 2 with a 1×1 conv + norm shortcut.
    static func residualLayer(_ dims: Int, _ cin: Int, _ cout: Int, blocks: Int, norm: NormKind) throws -> Sequential {
        var layers: [any UnaryLayer] = [try ResidualBlock(dims, cin, cout, stride: 2, norm: norm)]
        for _ in 1..<blocks { layers.append(try ResidualBlock(dims, cout, cout, stride: 1, norm: norm)) }
        return Sequential(layers)
    }

    public var sizeDivisor: Int { 16 }

    public func heads(_ x: Tensor) throws -> Heads {
        try checkInput(x, inChannels: inChannels)
        let c1 = try inConv(x)
        let c2 = try layer1(c1)
        let c3 = try layer2(c2)
        let c4 = try layer3(c3)
        var out = Heads()
        for spec in headSpecs { out.set(spec.name, levels: [try decoders[spec.name]!.decode(c1, c2, c3, c4)]) }
        return out
    }

    public func outputs(_ x: Tensor) throws -> [Tensor] { try heads(x).levels(Heads.segmentation) }

    public func callAsFunction(_ x: Tensor) throws -> Tensor { try outputs(x)[0] }
}

/// [conv3 (bias) – norm – ReLU] × 2, the first conv optionally strided.
final class DoubleConv: Module, UnaryLayer {
    let conv: Sequential

    init(_ dims: Int, _ cin: Int, _ cout: Int, stride: Int = 1, norm: NormKind) throws {
        conv = Sequential([
            try Layers.conv(dims, cin, cout, kernel: 3, stride: stride), try Layers.norm(norm, dims, cout), ReLU(),
            try Layers.conv(dims, cout, cout, kernel: 3), try Layers.norm(norm, dims, cout), ReLU(),
        ])
        super.init()
    }

    func callAsFunction(_ x: Tensor) throws -> Tensor { try conv(x) }
}

/// ResNet's BasicBlock in 2D or 3D with any norm (torchvision's keys): conv3–norm–ReLU–conv3–norm plus the shortcut, then ReLU.
final class ResidualBlock: Module, UnaryLayer {
    let conv1: any UnaryLayer, bn1: any UnaryLayer, conv2: any UnaryLayer, bn2: any UnaryLayer
    let downsample: Sequential?

    init(_ dims: Int, _ cin: Int, _ cout: Int, stride: Int, norm: NormKind) throws {
        conv1 = try Layers.conv(dims, cin, cout, kernel: 3, stride: stride, bias: false)
        bn1 = try Layers.norm(norm, dims, cout)
        conv2 = try Layers.conv(dims, cout, cout, kernel: 3, bias: false)
        bn2 = try Layers.norm(norm, dims, cout)
        downsample = stride != 1 || cin != cout
            ? Sequential([try Layers.conv(dims, cin, cout, kernel: 1, stride: stride, bias: false), try Layers.norm(norm, dims, cout)]) : nil
        super.init()
    }

    func callAsFunction(_ x: Tensor) throws -> Tensor {
        let y = try bn2(try conv2(try bn1(try conv1(x)).relu()))
        return try y.adding(try downsample.map { try $0(x) } ?? x).relu()
    }
}

/// One task's decoder: ×2 upsampling, skip concatenation and a DoubleConv per level, ending with
/// DoubleConv(c → outChannels) at full resolution.
final class ResDecoder: Module {
    let up: Upsample
    let conv5: DoubleConv, conv6: DoubleConv, conv7: DoubleConv, conv8: DoubleConv

    init(_ dims: Int, width c: Int, outChannels: Int, norm: NormKind) throws {
        up = Upsample(scale: Array(repeating: 2, count: dims), mode: .linear, alignCorners: false)
        conv5 = try DoubleConv(dims, 12 * c, 4 * c, norm: norm)
        conv6 = try DoubleConv(dims, 6 * c, 2 * c, norm: norm)
        conv7 = try DoubleConv(dims, 3 * c, c, norm: norm)
        conv8 = try DoubleConv(dims, c, outChannels, norm: norm)
        super.init()
    }

    func decode(_ c1: Tensor, _ c2: Tensor, _ c3: Tensor, _ c4: Tensor) throws -> Tensor {
        let c5 = try conv5(try Tensor.cat([try up(c4), c3], dim: 1))
        let c6 = try conv6(try Tensor.cat([try up(c5), c2], dim: 1))
        let c7 = try conv7(try Tensor.cat([try up(c6), c1], dim: 1))
        return try conv8(try up(c7))
    }
}
