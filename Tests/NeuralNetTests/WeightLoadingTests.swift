import Foundation
import XCTest
@testable import NeuralNet
import Torch

/// torchvision-shaped `.pth` (conv1, bn1, fc) written by torch.save (scripts/fixtures/make_pth_fixtures.py).
private let tinyPth = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("TorchTests/Fixtures/pth_tiny.pth").path

private final class TinyEncoder: Module {
    let conv1: Conv2d
    let bn1: BatchNorm2d
    init(out: Int = 4) throws {
        conv1 = try Conv2d(3, out, kernelSize: 3, bias: false)
        bn1 = try BatchNorm2d(out)
        super.init()
    }
}

private final class TinySegmenter: Module {
    let encoder: TinyEncoder
    let head: Conv2d
    init(out: Int = 4) throws {
        encoder = try TinyEncoder(out: out)
        head = try Conv2d(out, 2, kernelSize: 1)
        super.init()
    }
}

final class WeightLoadingTests: XCTestCase {
    func testPrefixLoadsIntoASubmoduleAndReportsTheRest() throws {
        let file = Dictionary(uniqueKeysWithValues: try WeightFile.load(tinyPth).tensors.map { ($0.name, $0.tensor) })
        let net = try TinySegmenter()
        let headBefore = try net.head.weight.floats()
        let report = try net.loadWeights(from: tinyPth, prefix: "encoder.", strict: false)
        XCTAssertEqual(report.missing, [])
        XCTAssertEqual(report.unexpected, ["fc.weight", "fc.bias"])
        for (k, t) in net.stateDict() where k.hasPrefix("encoder.") {
            XCTAssertEqual(try t.doubles(), try file[String(k.dropFirst("encoder.".count))]!.doubles(), k)
        }
        XCTAssertEqual(try net.encoder.bn1.numBatchesTracked.item(), 5)
        XCTAssertEqual(try net.head.weight.floats(), headBefore, "keys outside the prefix are untouched")

        // Without the prefix every model key is missing and every file key unexpected; strict makes that an error.
        let plain = try net.loadWeights(from: tinyPth, strict: false)
        XCTAssertEqual(plain.missing.count, net.stateDict().count)
        XCTAssertThrowsError(try TinyEncoder().loadWeights(from: tinyPth, strict: true)) { e in
            XCTAssertTrue("\(e)".contains("unexpected keys: fc.weight, fc.bias"), "\(e)")
        }
        XCTAssertThrowsError(try TinySegmenter().loadWeights(from: tinyPth, prefix: "encoder.", strict: true)) { e in
            XCTAssertTrue("\(e)".contains("unexpected"), "\(e)")
        }
    }

    func testShapeMismatchNamesKeyAndShapesAndLoadsNothing() throws {
        let net = try TinySegmenter(out: 5)
        let before = try net.encoder.bn1.bias!.floats()
        XCTAssertThrowsError(try net.loadWeights(from: tinyPth, prefix: "encoder.", strict: false)) { e in
            XCTAssertEqual("\(e)", "\(tinyPth): 'conv1.weight' (model key 'encoder.conv1.weight') has shape [4, 3, 3, 3] in the file but the model expects [5, 3, 3, 3]")
        }
        XCTAssertEqual(try net.encoder.bn1.bias!.floats(), before)
    }

    func testStrictMissingKeyNamesItsExpectedShape() throws {
        let dir = NSTemporaryDirectory() + "contour-weights-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let net = try TinySegmenter()
        let partial = net.stateDict().filter { $0.name != "head.bias" }
        try Safetensors.save(partial, to: "\(dir)/w.safetensors")
        XCTAssertThrowsError(try TinySegmenter().loadWeights(from: "\(dir)/w.safetensors", strict: true)) { e in
            XCTAssertTrue("\(e)".hasSuffix("does not match the model: missing keys: head.bias (expected shape [2])"), "\(e)")
        }
    }
}
