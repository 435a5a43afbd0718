import XCTest
@testable import Models
import NeuralNet
import Torch

final class ModelTests: XCTestCase {
    func testUNet2DShapesAndDeepSupervision() throws {
        let net = try UNet(spatialDims: 2, inChannels: 2, classes: 3, stages: 4, baseWidth: 4, deepSupervision: true)
        let outs = try net.outputs(try Tensor.randn([2, 2, 32, 24]))
        XCTAssertEqual(outs.map(\.shape), [[2, 3, 32, 24], [2, 3, 16, 12], [2, 3, 8, 6]])
        XCTAssertEqual(try net(try Tensor.randn([1, 2, 16, 16])).shape, [1, 3, 16, 16])
        XCTAssertEqual(net.sizeDivisor, 8)
        XCTAssertThrowsError(try net(try Tensor.randn([1, 2, 20, 16]))) { XCTAssertTrue("\($0)".contains("divisible by 8"), "\($0)") }
        XCTAssertThrowsError(try net(try Tensor.randn([1, 1, 16, 16]))) { XCTAssertTrue("\($0)".contains("expects (N, 2"), "\($0)") }
    }

    func testUNetWithPlannedAnisotropicPoolingAndKernels() throws {
        // contour data plan's 3d_fullres for spacing 2.6 × 0.8 × 0.8 (PlanningTests).
        let pools = [[1, 1, 1], [1, 2, 2], [2, 2, 2], [1, 2, 2]], kernels = [[1, 3, 3], [3, 3, 3], [3, 3, 3], [3, 3, 3]]
        let options = Options(["poolKernelSizes": .array(pools.map { .array($0.map { .number(Double($0)) }) }),
                               "convKernelSizes": .array(kernels.map { .array($0.map { .number(Double($0)) }) }),
                               "baseWidth": .number(2)], for: "unet3d")
        let net = try ModelRegistry.make("unet3d", options: options, context: ModelContext(inChannels: 1, classes: 2, landmarks: 0))
        XCTAssertEqual(net.sizeDivisors, [2, 8, 8])
        XCTAssertEqual(try net(try Tensor.randn([1, 1, 12, 40, 48])).shape, [1, 2, 12, 40, 48])
        let shapes = Dictionary(uniqueKeysWithValues: net.stateDict().map { ($0.name, $0.tensor.shape) })
        XCTAssertEqual(shapes["encoder.0.convs.0.weight"], [2, 1, 1, 3, 3])
        XCTAssertEqual(shapes["encoder.3.convs.0.weight"], [16, 8, 3, 3, 3])
        XCTAssertEqual(shapes["ups.0.weight"], [16, 8, 1, 2, 2])   // deepest upsampling undoes the 1×2×2 pool
        XCTAssertEqual(shapes["ups.1.weight"], [8, 4, 2, 2, 2])
        XCTAssertThrowsError(try net(try Tensor.randn([1, 1, 12, 40, 44]))) { XCTAssertTrue("\($0)".contains("axis 2"), "\($0)") }
    }

    func testUNetWidthsAndParameterCountMatchTheFormula() throws {
        // 2 stages, base 4, 1 → 2 classes, instance norm (affine): count by hand.
        let net = try UNet(spatialDims: 2, inChannels: 1, classes: 2, stages: 2, baseWidth: 4)
        func conv(_ i: Int, _ o: Int, _ k: Int, bias: Bool = true) -> Int { i * o * k * k + (bias ? o : 0) }
        let encoder = conv(1, 4, 3) + 8 + conv(4, 4, 3) + 8 + conv(4, 8, 3) + 16 + conv(8, 8, 3) + 16
        let up = 8 * 4 * 2 * 2
        let decoder = conv(8, 4, 3) + 8 + conv(4, 4, 3) + 8
        let head = conv(4, 2, 1)
        XCTAssertEqual(net.parameterCount, encoder + up + decoder + head)
        XCTAssertEqual(net.stateDict().first?.name, "encoder.0.convs.0.weight")
        let widths = try UNet(spatialDims: 3, inChannels: 1, classes: 2, stages: 6, baseWidth: 32).encoder.map { stage in
            stage.convs.layers[0].parameters()[0].shape[0]
        }
        XCTAssertEqual(widths, [32, 64, 128, 256, 320, 320])  // capped at 320 in 3D, like nnU-Net
    }

    func testUNet3DAttentionAndUNetPlusPlus() throws {
        let x3 = try Tensor.randn([1, 1, 8, 8, 8])
        XCTAssertEqual(try UNet(spatialDims: 3, inChannels: 1, classes: 2, stages: 3, baseWidth: 2, norm: .group)(x3).shape, [1, 2, 8, 8, 8])
        let att = try UNet(spatialDims: 2, inChannels: 1, classes: 2, stages: 3, baseWidth: 4, norm: .batch, deepSupervision: true, attention: true)
        XCTAssertEqual(try att.outputs(try Tensor.randn([2, 1, 16, 16])).map(\.shape), [[2, 2, 16, 16], [2, 2, 8, 8]])
        XCTAssertEqual(try UNet(spatialDims: 3, inChannels: 1, classes: 2, stages: 2, baseWidth: 2, attention: true)(x3).shape, [1, 2, 8, 8, 8])
        XCTAssertEqual(att.gates.count, 2)
        XCTAssertTrue(att.stateDict().contains { $0.name == "gates.0.psi.weight" })
        let pp = try UNetPlusPlus(spatialDims: 2, inChannels: 1, classes: 2, stages: 3, baseWidth: 4, deepSupervision: true)
        XCTAssertEqual(try pp.outputs(try Tensor.randn([1, 1, 16, 16])).map(\.shape), [[1, 2, 16, 16], [1, 2, 16, 16]])
        // UNet++ with L = 2 has nested nodes X(0,1), X(1,1), X(0,2).
        XCTAssertEqual(pp.nested.count, 3)
        XCTAssertEqual(try UNetPlusPlus(spatialDims: 3, inChannels: 1, classes: 3, stages: 2, baseWidth: 2)(x3).shape, [1, 3, 8, 8, 8])
    }

    func testAttentionGateWeightsSkipsBySigmoid() throws {
        let gate = try AttentionGate(2, skip: 2, gate: 2, inner: 1)
        let x = try Tensor.ones([1, 2, 4, 4]), g = try Tensor.zeros([1, 2, 2, 2])
        let y = try gate(skip: x, gate: g)
        // Every output is x·α with α ∈ (0, 1).
        let v = try y.floats()
        XCTAssertTrue(v.allSatisfy { $0 > 0 && $0 < 1 })
        XCTAssertEqual(y.shape, x.shape)
    }

    func testRegistryBuildsByNameAndRejectsBadOptions() throws {
        let m = try ModelRegistry.make("unet2d", options: try Options(json: "{\"stages\": 3, \"baseWidth\": 4, \"norm\": \"batch\"}", for: "unet2d"),
                                       inChannels: 1, classes: 2)
        XCTAssertEqual(m.spatialDims, 2)
        XCTAssertEqual(m.sizeDivisor, 4)
        XCTAssertThrowsError(try ModelRegistry.make("vnet", options: Options(for: "vnet"), inChannels: 1, classes: 2)) {
            XCTAssertTrue("\($0)".contains("available: unet2d, unet3d, unet2d-mt, unet3d-mt, resunet2d-mt, resunet3d-mt, attention-unet, unet++"), "\($0)")
        }
        XCTAssertThrowsError(try ModelRegistry.make("unet2d", options: try Options(json: "{\"depth\": 3}", for: "unet2d"), inChannels: 1, classes: 2)) {
            XCTAssertTrue("\($0)".contains("unknown option 'depth'"), "\($0)")
        }
        XCTAssertThrowsError(try ModelRegistry.make("unet3d", options: try Options(json: "{\"norm\": \"layer\"}", for: "unet3d"), inChannels: 1, classes: 2)) {
            XCTAssertTrue("\($0)".contains("option 'norm'"), "\($0)")
        }
        XCTAssertEqual(ModelRegistry.list(matching: "unet*").map(\.name), ["unet2d", "unet3d", "unet2d-mt", "unet3d-mt", "unet++"])
        XCTAssertEqual(ModelRegistry.list(matching: "*-mt").map(\.name), ["unet2d-mt", "unet3d-mt", "resunet2d-mt", "resunet3d-mt"])
        XCTAssertEqual(ModelRegistry.list(matching: "*att*").map(\.name), ["attention-unet"])
    }

    func testGradientsReachTheFirstLayer() throws {
        let net = try UNet(spatialDims: 2, inChannels: 1, classes: 2, stages: 3, baseWidth: 2)
        let loss = try net(try Tensor.randn([1, 1, 8, 8])).crossEntropy(target: try Tensor.randint(0, 2, [1, 8, 8]))
        try loss.backward()
        let first = net.parameters()[0]
        XCTAssertNotNil(first.grad)
        XCTAssertGreaterThan(try first.grad!.abs().sum().item(), 0)
    }
}

final class MultiTaskModelTests: XCTestCase {
    func testSharedEncoderAndOneDecoderPerHeadIn2DAnd3D() throws {
        for (dims, shape) in [(2, [2, 1, 16, 16]), (3, [1, 1, 8, 8, 8])] {
            let net = try MultiTaskUNet(spatialDims: dims, inChannels: 1, classes: 3, tasks: [HeadSpec(name: "heatmaps", channels: 5, kind: .heatmap)],
                                        stages: 3, baseWidth: 2, deepSupervision: true)
            let heads = try net.heads(try Tensor.randn(shape))
            XCTAssertEqual(heads.names, ["segmentation", "heatmaps"])
            XCTAssertEqual(heads["segmentation"]!.shape, [shape[0], 3] + shape.dropFirst(2))
            XCTAssertEqual(heads["heatmaps"]!.shape, [shape[0], 5] + shape.dropFirst(2))
            XCTAssertEqual(heads.levels("heatmaps").count, 2, "deep supervision on every head")
            XCTAssertEqual(try net(try Tensor.randn(shape)).shape, heads["segmentation"]!.shape)
            let keys = net.stateDict().map(\.name)
            XCTAssertTrue(keys.contains { $0.hasPrefix("encoder.0.") })
            XCTAssertTrue(keys.contains { $0.hasPrefix("decoders.heatmaps.heads.") })
            XCTAssertTrue(keys.contains { $0.hasPrefix("decoders.segmentation.decoder.") })
        }
        // The registry builds it for a dataset's landmarks and refuses a dataset without any.
        let m = try ModelRegistry.make("unet2d-mt", options: Options(["stages": .number(2), "baseWidth": .number(2)], for: "unet2d-mt"),
                                       context: ModelContext(inChannels: 1, classes: 2, landmarks: 4))
        XCTAssertEqual(m.headSpecs.map(\.channels), [2, 4])
        XCTAssertThrowsError(try ModelRegistry.make("unet3d-mt", options: Options([:], for: "unet3d-mt"), context: ModelContext(inChannels: 1, classes: 2))) {
            XCTAssertTrue("\($0)".contains("no landmarks"), "\($0)")
        }
    }
}

final class ResUNetMTTests: XCTestCase {
    /// METHODS §5.2: the reconstruction has 17.51 M parameters for feta (P = 6, K = 8) and 17.52 M for
    /// knee (P = 13, K = 6); the exact integers are the sums of conv weights, conv biases and norm
    /// affines over the layer list of §5.2.
    func testParameterCountMatchesTheSpec() throws {
        for (points, classes, expected) in [(6, 8, 17_513_792), (13, 6, 17_520_977)] {
            let m = try ModelRegistry.make("resunet3d-mt", options: Options([:], for: "resunet3d-mt"),
                                           context: ModelContext(inChannels: 1, classes: classes, landmarks: points))
            let n = m.parameters().map(\.count).reduce(0, +)
            XCTAssertEqual(n, expected, "P = \(points), K = \(classes)")
        }
    }

    /// Against scripts/fixtures/make_resunet_fixtures.py: a PyTorch module of the same layer list
    /// and key names, random BatchNorm statistics, eval mode.
    func testForwardMatchesAPyTorchReference() throws {
        let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/resunet-mt").path
        let net = try ResUNetMT(spatialDims: 3, inChannels: 1, classes: 3, tasks: [HeadSpec(name: "heatmaps", channels: 2, kind: .heatmap)],
                                baseWidth: 2, blocks: 2)
        var weights: [String: Tensor] = [:]
        for (k, t) in try Safetensors.load("\(dir)/model.safetensors").tensors { weights[k] = t }
        let report = try net.loadStateDict(weights, strict: false)
        XCTAssertTrue(report.unexpected.isEmpty && report.misShaped.isEmpty, "\(report)")
        XCTAssertTrue(report.missing.allSatisfy { $0.hasSuffix("num_batches_tracked") }, "\(report.missing)")
        net.eval()
        let heads = try net.heads(try Tensor.loadNPY("\(dir)/input.npy"))
        for name in ["segmentation", "heatmaps"] {
            let expected = try Tensor.loadNPY("\(dir)/\(name).npy")
            XCTAssertEqual(heads[name]!.shape, expected.shape)
            XCTAssertLessThan(try heads[name]!.subtracting(expected).abs().max().item(), 1e-4, name)
        }
    }

    func testHeadsAreFullResolutionNonNegativeIn2DAnd3D() throws {
        for (dims, shape) in [(2, [2, 1, 32, 32]), (3, [1, 1, 16, 16, 16])] {
            let net = try ResUNetMT(spatialDims: dims, inChannels: 1, classes: 3, tasks: [HeadSpec(name: "heatmaps", channels: 4, kind: .heatmap)],
                                    baseWidth: 2, blocks: 2)
            let heads = try net.heads(try Tensor.randn(shape))
            XCTAssertEqual(heads.names, ["segmentation", "heatmaps"])
            XCTAssertEqual(heads["segmentation"]!.shape, [shape[0], 3] + shape.dropFirst(2))
            XCTAssertEqual(heads["heatmaps"]!.shape, [shape[0], 4] + shape.dropFirst(2))
            XCTAssertGreaterThanOrEqual(try heads["heatmaps"]!.min().item(), 0, "ReLU-headed raw outputs")
            XCTAssertGreaterThanOrEqual(try heads["segmentation"]!.min().item(), 0)
            let keys = net.stateDict().map(\.name)
            XCTAssertTrue(keys.contains("layer1.0.downsample.0.weight"))
            XCTAssertTrue(keys.contains("decoders.heatmaps.conv8.conv.3.weight"))
            XCTAssertFalse(keys.contains("layer1.1.downsample.0.weight"), "only the strided block has a shortcut conv")
        }
        XCTAssertThrowsError(try ResUNetMT(spatialDims: 2, inChannels: 1, classes: 2, tasks: [], baseWidth: 2, blocks: 1)
            .heads(try Tensor.randn([1, 1, 24, 24]))) { XCTAssertTrue("\($0)".contains("divisible by 16"), "\($0)") }
        XCTAssertThrowsError(try ModelRegistry.make("resunet2d-mt", options: Options([:], for: "resunet2d-mt"),
                                                    context: ModelContext(inChannels: 1, classes: 2))) {
            XCTAssertTrue("\($0)".contains("no landmarks"), "\($0)")
        }
    }
}
