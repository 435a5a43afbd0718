import NeuralNet
import Torch

/// Additive attention gate (Oktay et al., 2018): α = σ(ψ(ReLU(W_x·x + W_g·up(g)))), output x·α.
final class AttentionGate: Module {
    let wx: any UnaryLayer, wg: any UnaryLayer, psi: any UnaryLayer

    init(_ spatial: Int, skip: Int, gate: Int, inner: Int) throws {
        wx = try Layers.conv(spatial, skip, inner, kernel: 1, bias: false)
        wg = try Layers.conv(spatial, gate, inner, kernel: 1)
        psi = try Layers.conv(spatial, inner, 1, kernel: 1)
        super.init()
    }

    func callAsFunction(skip x: Tensor, gate g: Tensor) throws -> Tensor {
        let size = Array(x.shape.dropFirst(2))
        let gu = try wg(g).interpolate(size: size, mode: .linear)
        let alpha = try psi(try (wx(x) + gu).relu()).sigmoid()
        return x * alpha
    }
}

/// U-Net whose skip connections pass through attention gates driven by the coarser decoder
/// features; otherwise as `UNet`.
public final class AttentionUNet: Module, SegmentationModel {
    public let spatialDims: Int, classes: Int, inChannels: Int, deepSupervision: Bool
    let encoder: [ConvStage]
    let gates: [AttentionGate]
    let ups: [any UnaryLayer]
    let decoder: [ConvStage]
    let heads: [any UnaryLayer]

    public init(spatialDims: Int, inChannels: Int, classes: Int, stages: Int = 5, baseWidth: Int = 32,
                maxWidth: Int? = nil, norm: NormKind = .instance, deepSupervision: Bool = false) throws {
        guard spatialDims == 2 || spatialDims == 3, stages >= 2 else { throw TorchError("AttentionUNet: spatialDims 2 or 3, stages ≥ 2") }
        let cap = maxWidth ?? (spatialDims == 2 ? 512 : 320)
        let widths = (0..<stages).map { Swift.min(baseWidth << $0, cap) }
        self.spatialDims = spatialDims
        self.classes = classes
        self.inChannels = inChannels
        self.deepSupervision = deepSupervision
        encoder = try (0..<stages).map { i in
            try ConvStage(spatialDims, i == 0 ? inChannels : widths[i - 1], widths[i], convs: 2, stride: i == 0 ? 1 : 2, norm: norm)
        }
        gates = try (1..<stages).reversed().map { try AttentionGate(spatialDims, skip: widths[$0 - 1], gate: widths[$0], inner: Swift.max(widths[$0 - 1] / 2, 1)) }
        ups = try (1..<stages).reversed().map { try Layers.upConv(spatialDims, widths[$0], widths[$0 - 1]) }
        decoder = try (1..<stages).reversed().map { try ConvStage(spatialDims, 2 * widths[$0 - 1], widths[$0 - 1], convs: 2, stride: 1, norm: norm) }
        heads = try (1..<stages).reversed().map { try Layers.conv(spatialDims, widths[$0 - 1], classes, kernel: 1) }
        super.init()
    }

    public var sizeDivisor: Int { 1 << (encoder.count - 1) }

    public func outputs(_ x: Tensor) throws -> [Tensor] {
        try checkInput(x, inChannels: inChannels)
        var skips: [Tensor] = []
        var y = x
        for stage in encoder {
            y = try stage(y)
            skips.append(y)
        }
        var outs: [Tensor] = []
        for i in 0..<decoder.count {
            let gated = try gates[i](skip: skips[skips.count - 2 - i], gate: y)
            y = try decoder[i](Tensor.cat([try ups[i](y), gated], dim: 1))
            if deepSupervision || i == decoder.count - 1 { outs.append(try heads[i](y)) }
        }
        return outs.reversed()
    }

    public func callAsFunction(_ x: Tensor) throws -> Tensor { try outputs(x)[0] }
}
