import Foundation
import XCTest
import NeuralNet
import Torch
@testable import Models

/// A torchvision ResNet state dict loads into ConDSeg's encoder with no prefix (its layout
/// mapped by `PretrainedKeyMapping`), and the model's own keys still load as they are.
final class PretrainedEncoderTests: XCTestCase {
    func testTorchvisionResNetLoadsIntoConDSegEncoder() throws {
        let dir = NSTemporaryDirectory() + "contour-pretrained-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Torch.manualSeed(3)
        let resnet = try ResNet(.resnet18, classes: 10)
        try resnet.save(to: "\(dir)/resnet18.safetensors")
        for model in [try ConDSeg(encoder: .resnet18, size: 64), try ConDSegStage1(encoder: .resnet18, size: 64)] as [any SegmentationModel & PretrainedKeyMapping] {
            let report = try model.loadWeights(from: "\(dir)/resnet18.safetensors", strict: false,
                                               rename: { model.modelKey(forPretrained: $0) })
            let own = Dictionary(uniqueKeysWithValues: model.stateDict().map { ($0.name, $0.tensor) })
            let file = Dictionary(uniqueKeysWithValues: resnet.stateDict().map { ($0.name, $0.tensor) })
            for (fileKey, modelKey) in [("conv1.weight", "layer0.0.weight"), ("bn1.running_var", "layer0.1.running_var"),
                                        ("layer1.0.conv1.weight", "layer1.1.0.conv1.weight"), ("layer2.1.bn2.weight", "layer2.1.bn2.weight"),
                                        ("layer3.0.downsample.0.weight", "layer3.0.downsample.0.weight")] {
                let a = try XCTUnwrap(own[modelKey], modelKey), b = try XCTUnwrap(file[fileKey], fileKey)
                XCTAssertEqual(try a.doubles(), try b.doubles(), "\(fileKey) → \(modelKey)")
            }
            XCTAssertTrue(report.unexpected.contains("fc.weight") && report.unexpected.contains("layer4.0.conv1.weight"), "\(report.unexpected.prefix(5))")
            XCTAssertFalse(report.unexpected.contains { $0.hasPrefix("layer1.") || $0.hasPrefix("conv1") }, "\(report.unexpected)")
            XCTAssertFalse(report.missing.contains { $0.hasPrefix("layer0.") || $0.hasPrefix("layer3.") }, "encoder fully loaded")
        }
    }
}
