import NeuralNet
import Torch

/// The torchvision ResNet variants Contour builds (ImageNet layouts, `weights` load by key).
public enum ResNetDepth: String, Sendable, CaseIterable {
    case resnet18, resnet34, resnet50

    var bottleneck: Bool { self == .resnet50 }
    var blocks: [Int] {
        switch self {
        case .resnet18: return [2, 2, 2, 2]
        case .resnet34, .resnet50: return [3, 4, 6, 3]
        }
    }
    /// Channels of the stem (1/2) and layer1…layer4 (1/4 … 1/32).
    public var featureChannels: [Int] {
        let e = bottleneck ? Bottleneck.expansion : BasicBlock.expansion
        return [64, 64 * e, 128 * e, 256 * e, 512 * e]
    }
}

/// torchvision's ResNet (v1.5) with its exact state-dict keys: `conv1`, `bn1`, `layer1`…`layer4`
/// (`layerN.i.conv1`, …, `downsample.0/1`) and, when `classes` is set, `fc`. Used as an encoder:
/// `features(_:)` returns the stem output (after ReLU, 1/2) and layer1…layer4 (1/4 … 1/32).
public final class ResNet: Module, UnaryLayer {
    public let depth: ResNetDepth
    let conv1: Conv2d, bn1: BatchNorm2d
    let layer1: Sequential, layer2: Sequential, layer3: Sequential, layer4: Sequential
    let fc: Linear?

    /// `classes` nil leaves out the classifier (`fc`), as an encoder has none.
    public init(_ depth: ResNetDepth, inChannels: Int = 3, classes: Int? = nil) throws {
        self.depth = depth
        conv1 = try Conv2d(inChannels, 64, kernelSize: 7, stride: 2, padding: 3, bias: false)
        bn1 = try BatchNorm2d(64)
        let layers = try Self.makeLayers(depth)
        (layer1, layer2, layer3, layer4) = (layers[0], layers[1], layers[2], layers[3])
        fc = try classes.map { try Linear(depth.featureChannels[4], $0) }
        super.init()
    }

    /// layer1…layer4 of `depth` as `Sequential`s of blocks (keys `0.conv1.weight`, …).
    static func makeLayers(_ depth: ResNetDepth) throws -> [Sequential] {
        var inplanes = 64
        let e = depth.bottleneck ? Bottleneck.expansion : BasicBlock.expansion
        return try [64, 128, 256, 512].enumerated().map { stage, planes in
            let stride = stage == 0 ? 1 : 2
            var blocks: [any UnaryLayer] = []
            for i in 0..<depth.blocks[stage] {
                let s = i == 0 ? stride : 1
                var down: Sequential?
                if i == 0 && (s != 1 || inplanes != planes * e) {
                    down = Sequential(try Conv2d(inplanes, planes * e, kernelSize: 1, stride: s, bias: false), try BatchNorm2d(planes * e))
                }
                blocks.append(depth.bottleneck ? try Bottleneck(inplanes, planes, stride: s, downsample: down)
                                               : try BasicBlock(inplanes, planes, stride: s, downsample: down))
                inplanes = planes * e
            }
            return Sequential(blocks)
        }
    }

    /// Stem (1/2, after ReLU) and layer1…layer4 outputs; `upTo` stops after that many (1…5).
    public func features(_ x: Tensor, upTo count: Int = 5) throws -> [Tensor] {
        guard x.rank == 4, x.shape[1] == conv1.weight.shape[1] else {
            throw TorchError("\(depth.rawValue) expects (N, \(conv1.weight.shape[1]), H, W), got shape \(x.shape)")
        }
        var out = [try bn1(try conv1(x)).reluInPlace()]
        var y = try out[0].maxPool(kernel: [3], stride: [2], padding: [1])
        for layer in [layer1, layer2, layer3, layer4].prefix(count - 1) {
            y = try layer(y)
            out.append(y)
        }
        return out
    }

    /// Class logits (global average pool → fc); without `fc`, the pooled layer4 features.
    public func callAsFunction(_ x: Tensor) throws -> Tensor {
        let pooled = try features(x).last!.mean(dims: [2, 3])
        return try fc.map { try $0(pooled) } ?? pooled
    }
}
