import NeuralNet
import Torch

/// ConDSeg (Lei et al., AAAI 2025; METHODS §4): a ResNet encoder (stem…layer3), FEM on each
/// scale, semantic decoupling of the deepest features into foreground/background/uncertainty
/// with auxiliary maps, a cascade of contrast-driven feature aggregation (CDFA) from 1/16 to
/// 1/2, three size-aware decoders and an output block.
///
/// State-dict keys and shapes equal the official `ConDSeg` class's (`layer0.0.weight`,
/// `layer1.1.0.conv1.weight`, `dconv1.c1.0.conv.0.weight`, …), so its `.pth` weights load as
/// they are. Every head is a logit map at the input resolution; the official forward returns
/// the sigmoid of each: (mask, mask_fg, mask_bg, mask_uc) = σ(segmentation, foreground,
/// background, uncertainty).
///
/// The paper's two module ablations (`sid`, `cdfa` false; both true is the published model):
/// - without SID: no DecoupleLayer and no auxiliary head (nor their heads); both CDFA guides
///   are the FEM feature of the deepest level, d4 (128×1/16, the shape of f_fg and f_bg),
///   through the same per-level preprocessors;
/// - without CDFA: each CDFA is a `PlainFeatureFusion` (its convolutions without the guided
///   attention) of the same input, and the preprocessors, which only feed CDFA, are absent.
public final class ConDSeg: Module, SegmentationModel {
    public let encoder: ResNetDepth
    /// The square side the official pipeline resizes images to (its `H`, `W`); any multiple of 16 runs.
    public let size: Int
    /// Semantic Information Decoupling (DecoupleLayer + auxiliary heads) is built.
    public let sid: Bool
    /// Contrast-Driven Feature Aggregation is built (else `PlainFeatureFusion` at each level).
    public let cdfa: Bool
    let layer0: Sequential, layer1: Sequential, layer2: Sequential, layer3: Sequential
    let dconv1: FeatureEnhancement, dconv2: FeatureEnhancement, dconv3: FeatureEnhancement, dconv4: FeatureEnhancement
    let decoupleLayer: DecoupleLayer?
    let preprocessFg4: CDFAPreprocess?, preprocessBg4: CDFAPreprocess?
    let preprocessFg3: CDFAPreprocess?, preprocessBg3: CDFAPreprocess?
    let preprocessFg2: CDFAPreprocess?, preprocessBg2: CDFAPreprocess?
    let preprocessFg1: CDFAPreprocess?, preprocessBg1: CDFAPreprocess?
    let auxHead: AuxiliaryHead?
    let cdfa4: ContrastDrivenFeatureAggregation?, cdfa3: ContrastDrivenFeatureAggregation?
    let cdfa2: ContrastDrivenFeatureAggregation?, cdfa1: ContrastDrivenFeatureAggregation?
    let decoderSmall: SizeAwareDecoderBlock, decoderMiddle: SizeAwareDecoderBlock, decoderLarge: SizeAwareDecoderBlock
    let outputBlock: ConDSegOutputBlock
    // Declared last, so the published model's keys keep the official order.
    let fuse4: PlainFeatureFusion?, fuse3: PlainFeatureFusion?, fuse2: PlainFeatureFusion?, fuse1: PlainFeatureFusion?

    public init(encoder: ResNetDepth = .resnet50, size: Int = 256, sid: Bool = true, cdfa: Bool = true) throws {
        guard size > 0, size % 16 == 0 else { throw TorchError("\(Self.self): size \(size) is not a positive multiple of 16") }
        self.encoder = encoder
        self.size = size
        self.sid = sid
        self.cdfa = cdfa
        (layer0, layer1, layer2, layer3) = try Self.backbone(encoder)
        let ch = encoder.featureChannels, dim = 128
        dconv1 = try FeatureEnhancement(ch[0], dim)
        dconv2 = try FeatureEnhancement(ch[1], dim)
        dconv3 = try FeatureEnhancement(ch[2], dim)
        dconv4 = try FeatureEnhancement(ch[3], dim)
        decoupleLayer = sid ? try DecoupleLayer(ch[3], dim) : nil
        func pre(_ scale: Int) throws -> CDFAPreprocess? { cdfa ? try CDFAPreprocess(dim, dim, scale: scale) : nil }
        preprocessFg4 = try pre(1)
        preprocessBg4 = try pre(1)
        preprocessFg3 = try pre(2)
        preprocessBg3 = try pre(2)
        preprocessFg2 = try pre(4)
        preprocessBg2 = try pre(4)
        preprocessFg1 = try pre(8)
        preprocessBg1 = try pre(8)
        auxHead = sid ? try AuxiliaryHead(dim) : nil
        func aggregation(_ cin: Int) throws -> ContrastDrivenFeatureAggregation? {
            cdfa ? try ContrastDrivenFeatureAggregation(cin, dim: dim, heads: 4) : nil
        }
        func fusion(_ cin: Int) throws -> PlainFeatureFusion? { cdfa ? nil : try PlainFeatureFusion(cin, dim: dim) }
        cdfa4 = try aggregation(dim)
        cdfa3 = try aggregation(2 * dim)
        cdfa2 = try aggregation(2 * dim)
        cdfa1 = try aggregation(2 * dim)
        decoderSmall = try SizeAwareDecoderBlock(dim, dim)
        decoderMiddle = try SizeAwareDecoderBlock(dim, dim)
        decoderLarge = try SizeAwareDecoderBlock(dim, dim)
        outputBlock = try ConDSegOutputBlock(dim, 1)
        fuse4 = try fusion(dim)
        fuse3 = try fusion(2 * dim)
        fuse2 = try fusion(2 * dim)
        fuse1 = try fusion(2 * dim)
        super.init()
    }

    /// The official split of a torchvision ResNet: layer0 = (conv1, bn1, relu), layer1 =
    /// (maxpool, layer1), layer2, layer3 (layer4 and fc are not part of the model).
    static func backbone(_ depth: ResNetDepth) throws -> (Sequential, Sequential, Sequential, Sequential) {
        let layers = try ResNet.makeLayers(depth)
        return (Sequential(try Conv2d(3, 64, kernelSize: 7, stride: 2, padding: 3, bias: false), try BatchNorm2d(64), ReLU()),
                Sequential(MaxPool2d(kernel: 3, stride: 2, padding: 1), layers[0]), layers[1], layers[2])
    }

    /// x1…x4 (1/2 … 1/16), after checking the input.
    static func encode(_ model: some SegmentationModel, _ x: Tensor, _ layers: [Sequential]) throws -> [Tensor] {
        guard x.rank == 4, x.shape[1] == 3 else {
            let hint = x.rank == 4 && x.shape[1] == 1
                ? "; the ResNet encoder takes 3-channel (BGR in the official code) images: give the dataset three channels (e.g. repeat the grey one)" : ""
            throw TorchError("\(type(of: model)) expects (N, 3, H, W), got shape \(x.shape)\(hint)")
        }
        if let bad = x.shape.dropFirst(2).first(where: { $0 % model.sizeDivisor != 0 }) {
            throw TorchError("\(type(of: model)): input size \(bad) is not divisible by \(model.sizeDivisor) (the encoder works at 1/16); resize or pad, e.g. to 256")
        }
        var out: [Tensor] = []
        var y = x
        for layer in layers {
            y = try layer(y)
            out.append(y)
        }
        return out
    }

    public var spatialDims: Int { 2 }
    public var classes: Int { 1 }
    public var sizeDivisor: Int { 16 }

    public var headSpecs: [HeadSpec] {
        [HeadSpec(name: Heads.segmentation, channels: 1, kind: .segmentation)]
            + (sid ? [Heads.foreground, Heads.background, Heads.uncertainty].map { HeadSpec(name: $0, channels: 1, kind: .map) } : [])
    }

    public func heads(_ x: Tensor) throws -> Heads {
        let xs = try Self.encode(self, x, [layer0, layer1, layer2, layer3])
        let d1 = try dconv1(xs[0]), d2 = try dconv2(xs[1]), d3 = try dconv3(xs[2]), d4 = try dconv4(xs[3])
        // Without SID both guides are d4: the deepest feature, undecoupled and unsupervised.
        var fg = d4, bg = d4
        var aux: (fg: Tensor, bg: Tensor, uc: Tensor)?
        if let decoupleLayer, let auxHead {
            let uc: Tensor
            (fg, bg, uc) = try decoupleLayer(xs[3])
            aux = try auxHead(fg: fg, bg: bg, uc: uc)
        }
        let up2 = ConvBNReLU.up2()
        let f4 = try aggregate(d4, cdfa4, preprocessFg4, preprocessBg4, fuse4, fg: fg, bg: bg)
        let f3 = try aggregate(try Tensor.cat([d3, try up2(f4)], dim: 1), cdfa3, preprocessFg3, preprocessBg3, fuse3, fg: fg, bg: bg)
        let f2 = try aggregate(try Tensor.cat([d2, try up2(f3)], dim: 1), cdfa2, preprocessFg2, preprocessBg2, fuse2, fg: fg, bg: bg)
        let f1 = try aggregate(try Tensor.cat([d1, try up2(f2)], dim: 1), cdfa1, preprocessFg1, preprocessBg1, fuse1, fg: fg, bg: bg)
        let mask = try outputBlock(small: try decoderSmall(f2, skip: f1), middle: try decoderMiddle(f3, skip: f2),
                                   large: try decoderLarge(f4, skip: f3))
        var out = Heads()
        out.set(Heads.segmentation, mask)
        if let aux {
            out.set(Heads.foreground, aux.fg)
            out.set(Heads.background, aux.bg)
            out.set(Heads.uncertainty, aux.uc)
        }
        return out
    }

    /// One cascade level: CDFA guided by fg/bg brought to its scale, or (cdfa off) the plain fusion.
    func aggregate(_ x: Tensor, _ cdfa: ContrastDrivenFeatureAggregation?, _ preFg: CDFAPreprocess?, _ preBg: CDFAPreprocess?,
                   _ fuse: PlainFeatureFusion?, fg: Tensor, bg: Tensor) throws -> Tensor {
        if let cdfa, let preFg, let preBg { return try cdfa(x, fg: try preFg(fg), bg: try preBg(bg)) }
        guard let fuse else { throw TorchError("ConDSeg: level without CDFA or fusion (cdfa \(self.cdfa))") }
        return try fuse(x)
    }

    public func outputs(_ x: Tensor) throws -> [Tensor] { [try heads(x).require(Heads.segmentation, by: "ConDSeg")] }

    public func callAsFunction(_ x: Tensor) throws -> Tensor { try outputs(x)[0] }
}

/// torchvision ResNet keys → ConDSeg's encoder (`model.pretrained: resnet50-0676ba61.pth`):
/// conv1/bn1 are layer0.0/0.1, layer1 sits behind the max-pool (layer1.1), layer2/3 are as
/// they are; layer4 and fc are not part of the model.
extension ConDSeg: PretrainedKeyMapping {
    public func modelKey(forPretrained key: String) -> String? { Self.encoderKey(torchvision: key) }

    static func encoderKey(torchvision key: String) -> String? {
        for (from, to) in [("conv1.", "layer0.0."), ("bn1.", "layer0.1."), ("layer1.", "layer1.1.")] where key.hasPrefix(from) {
            return to + key.dropFirst(from.count)
        }
        return nil
    }
}

extension ConDSegStage1: PretrainedKeyMapping {
    public func modelKey(forPretrained key: String) -> String? { ConDSeg.encoderKey(torchvision: key) }
}
