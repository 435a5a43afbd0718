import ArgumentParser
@testable import ContourCLI
import Foundation
import Models
import NeuralNet
import Torch
import XCTest

/// `contour weights convert|list` and `contour models run` (issue 17).
final class WeightsCommandTests: XCTestCase {
    var dir: String!
    /// torch.save output (scripts/fixtures/make_pth_fixtures.py), shared with TorchTests.
    let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("TorchTests/Fixtures").path

    override func setUpWithError() throws {
        dir = NSTemporaryDirectory() + "contour-weights-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: dir) }

    func run(_ args: [String]) throws {
        var command = try Contour.parseAsRoot(args)
        try command.run()
    }

    func testConvertKeepsNamesOrderDtypesAndValues() throws {
        try run(["weights", "convert", "\(fixtures)/pth_wrapped.pth", "\(dir!)/tiny.safetensors"])
        let converted = try Safetensors.load("\(dir!)/tiny.safetensors")
        let reference = try Safetensors.load("\(fixtures)/pth_tiny.reference.safetensors")
        let order = try String(contentsOfFile: "\(fixtures)/pth_tiny.reference.order.txt", encoding: .utf8).split(separator: "\n").map(String.init)
        XCTAssertEqual(converted.tensors.map(\.name), order)
        for (name, t) in converted.tensors {
            XCTAssertEqual(t.dtype, reference[name]!.dtype, name)
            XCTAssertEqual(try t.rawBytes(), try reference[name]!.rawBytes(), name)
        }
        XCTAssertEqual(converted.metadata["source"], "pth_wrapped.pth")
        XCTAssertEqual(WeightsCommand.List.lines(converted.tensors.filter { $0.name.hasPrefix("bn1.n") || $0.name == "fc.weight" }),
                       ["bn1.num_batches_tracked  int64     []", "fc.weight                float32   [2, 4]"])
        XCTAssertThrowsError(try run(["weights", "convert", "\(fixtures)/pth_malicious.pth", "\(dir!)/bad.safetensors"])) { e in
            XCTAssertTrue("\(e)".contains("os.system"), "\(e)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: "\(dir!)/bad.safetensors"))
    }

    func testModelsRunMatchesTheSwiftForwardAndIsStrict() throws {
        let options = "{\"stages\": 3, \"baseWidth\": 4, \"norm\": \"batch\", \"deepSupervision\": true}"
        try Torch.manualSeed(11)
        let model = try ModelRegistry.make("unet2d", options: try Options(json: options, for: "unet2d"),
                                           context: ModelContext(inChannels: 2, classes: 3))
        // Non-trivial running statistics, so eval mode is visible in the output.
        model.train()
        _ = try model.heads(try Tensor.randn([4, 2, 16, 16]) * 3 + 1)
        try model.save(to: "\(dir!)/w.safetensors")
        let x = try Tensor.randn([2, 2, 16, 16])
        try x.saveNPY("\(dir!)/x.npy")
        model.eval()
        let expected = try withoutGradients { try model.heads(x) }

        try run(["models", "run", "unet2d", "--options", options, "--weights", "\(dir!)/w.safetensors",
                 "--input", "\(dir!)/x.npy", "--output", "\(dir!)/out", "--classes", "3"])
        let levels = expected.levels(Heads.segmentation)
        XCTAssertGreaterThan(levels.count, 1)
        for (i, level) in levels.enumerated() {
            let got = try Tensor.loadNPY("\(dir!)/out/segmentation\(i == 0 ? "" : "_\(i)").npy")
            XCTAssertEqual(got.shape, level.shape)
            XCTAssertEqual(try got.floats(), try level.floats(), "level \(i)")
        }

        // Weights of another class count: the error names the key and both shapes.
        XCTAssertThrowsError(try run(["models", "run", "unet2d", "--options", options, "--weights", "\(dir!)/w.safetensors",
                                      "--input", "\(dir!)/x.npy", "--output", "\(dir!)/out2", "--classes", "2"])) { e in
            XCTAssertTrue("\(e)".contains("has shape [3, ") && "\(e)".contains("the model expects [2, "), "\(e)")
        }
        // `contour models PATTERN` still lists.
        XCTAssertNoThrow(try run(["models", "unet*"]))
        XCTAssertTrue(try Contour.parseAsRoot(["models", "unet*"]) is ModelsCommand.List)
    }
}
