import XCTest
@testable import Models
import NeuralNet
import Torch

final class ModelRegistrationTests: XCTestCase {
    func testRegisteredModelsAreMadeAndListedByName() throws {
        try ModelRegistry.register(name: "test-tiny-unet", summary: "two-stage U-Net; width (4)") { o, m in
            let width = try o.int("width", default: 4, requirement: "a positive integer") { $0 > 0 }
            try o.finish()
            return try UNet(spatialDims: 2, inChannels: m.inChannels, classes: m.classes, stages: 2, baseWidth: width)
        }
        XCTAssertEqual(Array(ModelRegistry.names.prefix(2)), ["unet2d", "unet3d"])
        XCTAssertTrue(ModelRegistry.names.contains("test-tiny-unet"))
        XCTAssertEqual(ModelRegistry.list(matching: "test-tiny*").map(\.name), ["test-tiny-unet"])
        let net = try ModelRegistry.make("test-tiny-unet", options: Options(["width": .number(2)], for: "test-tiny-unet"),
                                         inChannels: 1, classes: 3)
        XCTAssertEqual(try net(try Tensor.randn([1, 1, 8, 8])).shape, [1, 3, 8, 8])
        XCTAssertThrowsError(try ModelRegistry.register(name: "unet2d", summary: "") { _, _ in throw NeuralNetError("unused") }) {
            XCTAssertTrue("\($0)".contains("'unet2d'") && "\($0)".contains("replace: true"), "\($0)")
        }
        XCTAssertThrowsError(try ModelRegistry.register(name: "", summary: "") { _, _ in throw NeuralNetError("unused") })
    }
}
