import Foundation
import XCTest
@testable import Models
import NeuralNet
import Torch

/// `unet2d` with `encoder:` against segmentation_models_pytorch's Unet as re-implemented in
/// scripts/fixtures/make_condseg_fixtures.py (keys, shapes and formula-weight outputs).
final class ResNetUNetTests: XCTestCase {
    func testKeysShapesAndOutputsMatchSMP() throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: try ConDSegTests.fixture("condseg_keys.json")))
        let json = try JSONSerialization.jsonObject(with: data) as! [String: Any]
        for depth in ResNetDepth.allCases {
            let expected = ((json["unet"] as! [String: Any])[depth.rawValue] as! [[Any]]).map { "\($0[0] as! String) \($0[1] as! [Int])" }
            XCTAssertEqual(try ResNetUNet(depth, inChannels: 3, classes: 2).stateDict().map { "\($0.name) \($0.tensor.shape)" }, expected)
        }
        let net = try ResNetUNet(.resnet18, inChannels: 3, classes: 2)
        try ConDSegTests.formulaInit(net)
        try net.to(.cpu, dtype: .float64)
        net.eval()
        let y = try withoutGradients { try net(try ConDSegTests.formula["input"]!.to(.float64)) }
        let ref = ConDSegTests.formula["unet.eval.segmentation"]!
        let err = try (y - ref.to(.float64)).abs().max().item() / (try ref.abs().max().item())
        XCTAssertLessThan(err, 1e-4)
    }

    func testRegistryOptionAndBadInput() throws {
        let m = try ModelRegistry.make("unet2d", options: try Options(json: "{\"encoder\": \"resnet34\"}", for: "unet2d"), inChannels: 1, classes: 3)
        XCTAssertEqual(m.sizeDivisor, 32)
        XCTAssertEqual(try m(try Tensor.rand([1, 1, 64, 32])).shape, [1, 3, 64, 32])
        XCTAssertTrue(m.stateDict().contains { $0.name == "encoder.layer4.2.bn2.running_var" })
        XCTAssertThrowsError(try m(try Tensor.rand([1, 1, 48, 32]))) { XCTAssertTrue("\($0)".contains("48 (axis 0) is not divisible by 32"), "\($0)") }
        XCTAssertThrowsError(try ModelRegistry.make("unet2d", options: try Options(json: "{\"encoder\": \"resnet34\", \"stages\": 4}", for: "unet2d"),
                                                    inChannels: 1, classes: 2)) {
            XCTAssertTrue("\($0)".contains("'stages'") && "\($0)".contains("encoder"), "\($0)")
        }
    }
}
