import NeuralNet
import Torch

/// A U-Net with one shared encoder and one decoder per task (BaBLoss's "multi-head network:
/// shared encoder and task-specific decoders"). Built from `UNet`'s stages; each decoder ends in
/// a 1×1 convolution giving that head's raw outputs (logits for segmentation, heatmaps for
/// landmarks), with deep-supervision levels when enabled.
public final class MultiTaskUNet: Module, SegmentationModel {
    public let spatialDims: Int, classes: Int, inChannels: Int, deepSupervision: Bool
    let encoder: [ConvStage]
    /// One decoder per head, keyed by the head's name (`decoders.heatmaps.*` in the state dict).
    let decoders: [String: TaskDecoder]
    public let headSpecs: [HeadSpec]

    /// `tasks`: the heads after `segmentation` (e.g. `heatmaps` with one channel per landmark).
    public init(spatialDims: Int, inChannels: Int, classes: Int, tasks: [HeadSpec], stages: Int = 5, baseWidth: Int = 32,
                maxWidth: Int? = nil, norm: NormKind = .instance, convsPerStage: Int = 2, deepSupervision: Bool = false) throws {
        guard spatialDims == 2 || spatialDims == 3 else { throw TorchError("MultiTaskUNet: spatialDims must be 2 or 3") }
        guard stages >= 2, baseWidth >= 1, inChannels >= 1, classes >= 1 else {
            throw TorchError("MultiTaskUNet: stages ≥ 2 and positive widths and channel counts are required")
        }
        let specs = [HeadSpec(name: Heads.segmentation, channels: classes, kind: .segmentation)] + tasks
        guard Set(specs.map(\.name)).count == specs.count else { throw TorchError("MultiTaskUNet: head names must be distinct, got \(specs.map(\.name))") }
        if let bad = specs.first(where: { $0.channels < 1 }) { throw TorchError("MultiTaskUNet: head '\(bad.name)' needs ≥ 1 channel") }
        let widths = Layers.widths(spatialDims, stages: stages, base: baseWidth, max: maxWidth)
        self.spatialDims = spatialDims
        self.classes = classes
        self.inChannels = inChannels
        self.deepSupervision = deepSupervision
        headSpecs = specs
        encoder = try (0..<stages).map { i in
            try ConvStage(spatialDims, i == 0 ? inChannels : widths[i - 1], widths[i], convs: convsPerStage, stride: i == 0 ? 1 : 2, norm: norm)
        }
        var built: [String: TaskDecoder] = [:]
        for spec in specs { built[spec.name] = try TaskDecoder(spatialDims, widths: widths, outChannels: spec.channels, convs: convsPerStage, norm: norm) }
        decoders = built
        super.init()
    }

    public var sizeDivisor: Int { 1 << (encoder.count - 1) }

    public func heads(_ x: Tensor) throws -> Heads {
        try checkInput(x, inChannels: inChannels)
        let skips = try UNet.encode(x, encoder)
        var out = Heads()
        for spec in headSpecs {
            let d = decoders[spec.name]!
            out.set(spec.name, levels: try UNet.decode(skips, ups: d.ups, decoder: d.decoder, gates: [], heads: d.heads,
                                                       deepSupervision: deepSupervision))
        }
        return out
    }

    public func outputs(_ x: Tensor) throws -> [Tensor] { try heads(x).levels(Heads.segmentation) }

    public func callAsFunction(_ x: Tensor) throws -> Tensor { try outputs(x)[0] }
}

/// One task's decoder path: upsampling, stages and 1×1 output convolutions per level.
final class TaskDecoder: Module {
    let ups: [any UnaryLayer]
    let decoder: [ConvStage]
    let heads: [any UnaryLayer]

    init(_ spatialDims: Int, widths: [Int], outChannels: Int, convs: Int, norm: NormKind) throws {
        let stages = widths.count
        ups = try (1..<stages).reversed().map { try Layers.upConv(spatialDims, widths[$0], widths[$0 - 1]) }
        decoder = try (1..<stages).reversed().map { try ConvStage(spatialDims, 2 * widths[$0 - 1], widths[$0 - 1], convs: convs, stride: 1, norm: norm) }
        heads = try (1..<stages).reversed().map { try Layers.conv(spatialDims, widths[$0 - 1], outChannels, kernel: 1) }
        super.init()
    }
}
