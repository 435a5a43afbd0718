import NeuralNet
import Torch

/// ResNet-18/34's residual block: two 3×3 conv–BN, the first strided; torchvision's keys
/// (`conv1`, `bn1`, `conv2`, `bn2`, `downsample.0/1`).
final class BasicBlock: Module, UnaryLayer {
    static let expansion = 1
    let conv1: Conv2d, bn1: BatchNorm2d, conv2: Conv2d, bn2: BatchNorm2d
    let downsample: Sequential?

    init(_ inplanes: Int, _ planes: Int, stride: Int, downsample: Sequential?) throws {
        conv1 = try Conv2d(inplanes, planes, kernelSize: 3, stride: stride, padding: 1, bias: false)
        bn1 = try BatchNorm2d(planes)
        conv2 = try Conv2d(planes, planes, kernelSize: 3, padding: 1, bias: false)
        bn2 = try BatchNorm2d(planes)
        self.downsample = downsample
        super.init()
    }

    func callAsFunction(_ x: Tensor) throws -> Tensor {
        let out = try bn2(try conv2(try bn1(try conv1(x)).reluInPlace()))
        return try (out + (try downsample?(x) ?? x)).reluInPlace()
    }
}

/// ResNet-50's bottleneck in torchvision's v1.5 form: the stride sits on the 3×3 convolution
/// (`conv2`), not on the first 1×1.
final class Bottleneck: Module, UnaryLayer {
    static let expansion = 4
    let conv1: Conv2d, bn1: BatchNorm2d, conv2: Conv2d, bn2: BatchNorm2d, conv3: Conv2d, bn3: BatchNorm2d
    let downsample: Sequential?

    init(_ inplanes: Int, _ planes: Int, stride: Int, downsample: Sequential?) throws {
        conv1 = try Conv2d(inplanes, planes, kernelSize: 1, bias: false)
        bn1 = try BatchNorm2d(planes)
        conv2 = try Conv2d(planes, planes, kernelSize: 3, stride: stride, padding: 1, bias: false)
        bn2 = try BatchNorm2d(planes)
        conv3 = try Conv2d(planes, planes * Self.expansion, kernelSize: 1, bias: false)
        bn3 = try BatchNorm2d(planes * Self.expansion)
        self.downsample = downsample
        super.init()
    }

    func callAsFunction(_ x: Tensor) throws -> Tensor {
        var out = try bn1(try conv1(x)).reluInPlace()
        out = try bn2(try conv2(out)).reluInPlace()
        out = try bn3(try conv3(out))
        return try (out + (try downsample?(x) ?? x)).reluInPlace()
    }
}
