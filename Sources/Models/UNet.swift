import NeuralNet
import Torch

/// U-Net in nnU-Net's form (PlainConvUNet): stages of two conv–norm–LeakyReLU blocks,
/// strided-convolution downsampling, transposed-convolution upsampling, skip concatenation,
/// widths base·2^i capped at `maxWidth`, optional deep supervision (a 1×1 head per decoder stage).
/// With `attention`, each skip passes through an additive attention gate driven by the coarser
/// decoder features (Attention U-Net, Oktay et al. 2018).
public final class UNet: Module, SegmentationModel {
    public let spatialDims: Int, classes: Int, inChannels: Int, deepSupervision: Bool
    /// Per axis, the product of the stages' pooling factors.
    public let sizeDivisors: [Int]
    let encoder: [ConvStage]
    let gates: [AttentionGate]
    let ups: [any UnaryLayer]
    let decoder: [ConvStage]
    let heads: [any UnaryLayer]

    public init(spatialDims: Int, inChannels: Int, classes: Int, stages: Int = 5, baseWidth: Int = 32,
                maxWidth: Int? = nil, norm: NormKind = .instance, convsPerStage: Int = 2, deepSupervision: Bool = false,
                attention: Bool = false, poolKernelSizes: [[Int]]? = nil, convKernelSizes: [[Int]]? = nil) throws {
        guard spatialDims == 2 || spatialDims == 3 else { throw TorchError("UNet: spatialDims must be 2 or 3") }
        // nnU-Net plans give per-stage, per-axis pooling (stage 0: ones) and kernels; default 2 and 3 everywhere.
        let pools = poolKernelSizes ?? (0..<stages).map { [Int](repeating: $0 == 0 ? 1 : 2, count: spatialDims) }
        let kernels = convKernelSizes ?? [[Int]](repeating: [Int](repeating: 3, count: spatialDims), count: pools.count)
        let stages = pools.count
        guard stages >= 2 else { throw TorchError("UNet: stages must be ≥ 2, got \(stages)") }
        guard kernels.count == stages, (pools + kernels).allSatisfy({ $0.count == spatialDims && $0.allSatisfy { $0 >= 1 } }) else {
            throw TorchError("UNet: poolKernelSizes and convKernelSizes need one list of \(spatialDims) positive sizes per stage (\(stages) stages)")
        }
        guard !attention || pools.allSatisfy({ Set($0).count == 1 }) else { throw TorchError("UNet: attention gates need the same pooling on every axis") }
        guard baseWidth >= 1, inChannels >= 1, classes >= 1 else { throw TorchError("UNet: widths and channel counts must be positive") }
        let widths = Layers.widths(spatialDims, stages: stages, base: baseWidth, max: maxWidth)
        self.spatialDims = spatialDims
        self.classes = classes
        self.inChannels = inChannels
        self.deepSupervision = deepSupervision
        sizeDivisors = (0..<spatialDims).map { a in pools.reduce(1) { $0 * $1[a] } }
        encoder = try (0..<stages).map { i in
            try ConvStage(spatialDims, i == 0 ? inChannels : widths[i - 1], widths[i], convs: convsPerStage, kernel: kernels[i], stride: pools[i], norm: norm)
        }
        gates = attention ? try (1..<stages).reversed().map {
            try AttentionGate(spatialDims, skip: widths[$0 - 1], gate: widths[$0], inner: Swift.max(widths[$0 - 1] / 2, 1))
        } : []
        ups = try (1..<stages).reversed().map { try Layers.upConv(spatialDims, widths[$0], widths[$0 - 1], factor: pools[$0]) }
        decoder = try (1..<stages).reversed().map {
            try ConvStage(spatialDims, 2 * widths[$0 - 1], widths[$0 - 1], convs: convsPerStage, kernel: kernels[$0 - 1],
                          stride: [Int](repeating: 1, count: spatialDims), norm: norm)
        }
        heads = try (1..<stages).reversed().map { try Layers.conv(spatialDims, widths[$0 - 1], classes, kernel: 1) }
        super.init()
    }

    public var sizeDivisor: Int { sizeDivisors.max()! }

    public func outputs(_ x: Tensor) throws -> [Tensor] {
        try checkInput(x, inChannels: inChannels)
        let skips = try Self.encode(x, encoder)
        return try Self.decode(skips, ups: ups, decoder: decoder, gates: gates, heads: heads, deepSupervision: deepSupervision)
    }

    /// The encoder's features, finest first (the last one is the bottleneck).
    static func encode(_ x: Tensor, _ encoder: [ConvStage]) throws -> [Tensor] {
        var skips: [Tensor] = []
        var y = x
        for stage in encoder {
            y = try stage(y)
            skips.append(y)
        }
        return skips
    }

    /// One decoder path over the encoder's features: full-resolution output first, then the
    /// deep-supervision levels when enabled. Shared by `UNet` and each task of `MultiTaskUNet`.
    static func decode(_ skips: [Tensor], ups: [any UnaryLayer], decoder: [ConvStage], gates: [AttentionGate],
                       heads: [any UnaryLayer], deepSupervision: Bool) throws -> [Tensor] {
        var y = skips[skips.count - 1]
        var outs: [Tensor] = []
        for i in 0..<decoder.count {
            var skip = skips[skips.count - 2 - i]
            if !gates.isEmpty { skip = try gates[i](skip: skip, gate: y) }
            y = try decoder[i](Tensor.cat([try ups[i](y), skip], dim: 1))
            if deepSupervision || i == decoder.count - 1 { outs.append(try heads[i](y)) }
        }
        return outs.reversed()
    }

    public func callAsFunction(_ x: Tensor) throws -> Tensor { try outputs(x)[0] }
}
