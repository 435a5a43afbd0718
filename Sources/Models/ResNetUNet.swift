import NeuralNet
import Torch

/// A U-Net on a torchvision ResNet encoder in segmentation_models_pytorch's layout (`smp.Unet`):
/// five decoder blocks (nearest up×2, concat the skip, two 3×3 conv–BN–ReLU) with 256, 128, 64,
/// 32, 16 channels over the stem/layer1…layer4 features, and a 3×3 conv head. Keys follow SMP:
/// `encoder.conv1.weight` … (torchvision's keys under `encoder.`, no `fc`),
/// `decoder.blocks.i.conv1.0.weight`, `segmentation_head.0.weight`.
public final class ResNetUNet: Module, SegmentationModel {
    public let classes: Int, inChannels: Int
    let encoder: ResNet
    let decoder: ResNetUNetDecoder
    let segmentationHead: Sequential

    public init(_ depth: ResNetDepth, inChannels: Int, classes: Int, decoderChannels: [Int] = [256, 128, 64, 32, 16]) throws {
        guard inChannels >= 1, classes >= 1, decoderChannels.count == 5, decoderChannels.allSatisfy({ $0 > 0 }) else {
            throw TorchError("ResNetUNet: positive channel counts and five decoder widths are required")
        }
        self.classes = classes
        self.inChannels = inChannels
        encoder = try ResNet(depth, inChannels: inChannels)
        decoder = try ResNetUNetDecoder(encoderChannels: depth.featureChannels, widths: decoderChannels)
        segmentationHead = Sequential(try Conv2d(decoderChannels[4], classes, kernelSize: 3, padding: 1))
        super.init()
    }

    public var spatialDims: Int { 2 }
    public var sizeDivisor: Int { 32 }

    public func outputs(_ x: Tensor) throws -> [Tensor] {
        try checkInput(x, inChannels: inChannels)
        return [try segmentationHead(try decoder(try encoder.features(x)))]
    }

    public func callAsFunction(_ x: Tensor) throws -> Tensor { try outputs(x)[0] }
}

/// SMP's `UnetDecoder` without a center block or attention (neither has weights by default).
final class ResNetUNetDecoder: Module {
    let blocks: [ResNetUNetDecoderBlock]

    /// `encoderChannels`: stem and layer1…layer4 (finest first).
    init(encoderChannels: [Int], widths: [Int]) throws {
        let deep = Array(encoderChannels.reversed())  // layer4 … stem
        let ins = [deep[0]] + widths.dropLast(), skips = Array(deep.dropFirst()) + [0]
        blocks = try (0..<widths.count).map { try ResNetUNetDecoderBlock(ins[$0] + skips[$0], widths[$0]) }
        super.init()
    }

    /// Features finest first (stem … layer4) → full-resolution decoder output.
    func callAsFunction(_ features: [Tensor]) throws -> Tensor {
        var y = features[features.count - 1]
        let skips = Array(features.dropLast().reversed())
        for (i, block) in blocks.enumerated() {
            y = try y.interpolate(scale: [2, 2], mode: .nearest)
            if i < skips.count { y = try Tensor.cat([y, skips[i]], dim: 1) }
            y = try block(y)
        }
        return y
    }
}

/// Two 3×3 conv (no bias)–BN–ReLU (`conv1.0/1`, `conv2.0/1`).
final class ResNetUNetDecoderBlock: Module, UnaryLayer {
    let conv1: Sequential, conv2: Sequential

    init(_ cin: Int, _ cout: Int) throws {
        conv1 = Sequential(try Conv2d(cin, cout, kernelSize: 3, padding: 1, bias: false), try BatchNorm2d(cout), ReLU())
        conv2 = Sequential(try Conv2d(cout, cout, kernelSize: 3, padding: 1, bias: false), try BatchNorm2d(cout), ReLU())
        super.init()
    }

    func callAsFunction(_ x: Tensor) throws -> Tensor { try conv2(try conv1(x)) }
}
