import NeuralNet
import Torch

/// ConDSeg's stage-1 model for Consistency Reinforcement (§4.6, official `ConDSegStage1`): the
/// same encoder (layer0…layer3, same keys), each scale upsampled to full size (bilinear,
/// align_corners), CBR1×1(→64) per scale (`head.conv1…conv4`), concat, 1×1 conv to one channel
/// without bias (`head.conv_fuse`). One head, `segmentation`, as logits (the official returns
/// their sigmoid).
public final class ConDSegStage1: Module, SegmentationModel {
    public let encoder: ResNetDepth
    /// The square side the official pipeline resizes images to (its `H`, `W`); any multiple of 16 runs.
    public let size: Int
    let layer0: Sequential, layer1: Sequential, layer2: Sequential, layer3: Sequential
    let head: Stage1Head

    public init(encoder: ResNetDepth = .resnet50, size: Int = 256) throws {
        guard size > 0, size % 16 == 0 else { throw TorchError("\(Self.self): size \(size) is not a positive multiple of 16") }
        self.encoder = encoder
        self.size = size
        (layer0, layer1, layer2, layer3) = try ConDSeg.backbone(encoder)
        head = try Stage1Head(Array(encoder.featureChannels.prefix(4)))
        super.init()
    }

    public var spatialDims: Int { 2 }
    public var classes: Int { 1 }
    public var sizeDivisor: Int { 16 }

    public func outputs(_ x: Tensor) throws -> [Tensor] {
        let xs = try ConDSeg.encode(self, x, [layer0, layer1, layer2, layer3])
        return [try head(xs)]
    }

    public func callAsFunction(_ x: Tensor) throws -> Tensor { try outputs(x)[0] }
}

/// The official `adjust` module of the stage-1 model.
final class Stage1Head: Module {
    let conv1: ConvBNReLU, conv2: ConvBNReLU, conv3: ConvBNReLU, conv4: ConvBNReLU
    let convFuse: Conv2d

    init(_ channels: [Int]) throws {
        conv1 = try ConvBNReLU(channels[0], 64, kernel: 1)
        conv2 = try ConvBNReLU(channels[1], 64, kernel: 1)
        conv3 = try ConvBNReLU(channels[2], 64, kernel: 1)
        conv4 = try ConvBNReLU(channels[3], 64, kernel: 1)
        convFuse = try Conv2d(4 * 64, 1, kernelSize: 1, bias: false)
        super.init()
    }

    /// x1…x4 at 1/2 … 1/16 → one logit map at full size.
    func callAsFunction(_ xs: [Tensor]) throws -> Tensor {
        let convs = [conv1, conv2, conv3, conv4]
        let ups = try xs.enumerated().map { i, x in
            try convs[i](try x.interpolate(scale: [Double(2 << i), Double(2 << i)], mode: .linear, alignCorners: true))
        }
        return try convFuse(try Tensor.cat(ups, dim: 1))
    }
}
