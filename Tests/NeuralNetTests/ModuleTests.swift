import Foundation
import XCTest
@testable import NeuralNet
import Torch

func fixturePath(_ name: String) throws -> String {
    guard let url = Bundle.module.url(forResource: name, withExtension: nil, subdirectory: "Fixtures") else {
        throw NeuralNetError("missing fixture \(name)")
    }
    return url.path
}

/// The same architecture as `Net` in scripts/fixtures/make_neuralnet_fixtures.py.
final class ReferenceBlock: Module, UnaryLayer {
    let conv: Conv2d
    let norm: BatchNorm2d
    let act = LeakyReLU(negativeSlope: 0.01)
    init(_ cin: Int, _ cout: Int) throws {
        conv = try Conv2d(cin, cout, kernelSize: 3, stride: 2, padding: 1)
        norm = try BatchNorm2d(cout)
        super.init()
    }
    func callAsFunction(_ x: Tensor) throws -> Tensor { try act(norm(conv(x))) }
}

final class ReferenceNet: Module, UnaryLayer {
    let stem: Conv2d
    let downBlocks: [ReferenceBlock]
    let head: Sequential
    let up: ConvTranspose2d
    let gn: GroupNorm
    @Key var last: Conv2d  // keyed "final" in init

    override init() {
        stem = try! Conv2d(1, 4, kernelSize: 3, padding: 1)
        downBlocks = [try! ReferenceBlock(4, 8), try! ReferenceBlock(8, 8)]
        head = Sequential(try! Conv2d(8, 8, kernelSize: 1), ReLU(), try! Conv2d(8, 2, kernelSize: 1))
        up = try! ConvTranspose2d(2, 2, kernelSize: 2, stride: 2)
        gn = try! GroupNorm(groups: 1, channels: 2)
        _last = Key(wrappedValue: try! Conv2d(2, 2, kernelSize: 1), "final")
        super.init()
    }

    func callAsFunction(_ x: Tensor) throws -> Tensor {
        var y = try stem(x)
        for b in downBlocks { y = try b(y) }
        return try last(gn(up(head(y))))
    }
}

final class ModuleTests: XCTestCase {
    func testStateDictKeysAndShapesMatchPyTorch() throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: try fixturePath("reference_net_keys.json")))
        let expected = try JSONSerialization.jsonObject(with: data) as! [[Any]]
        let net = ReferenceNet()
        let got = net.stateDict()
        XCTAssertEqual(got.map(\.name), expected.map { $0[0] as! String })
        XCTAssertEqual(got.map(\.tensor.shape), expected.map { $0[1] as! [Int] })
        XCTAssertEqual(net.namedBuffers().map(\.name).filter { $0.hasSuffix("num_batches_tracked") },
                       ["down_blocks.0.norm.num_batches_tracked", "down_blocks.1.norm.num_batches_tracked"])
        XCTAssertEqual(net.parameters().count, got.count - 6)
    }

    func testLoadsPyTorchCheckpointAndReproducesItsOutput() throws {
        let net = ReferenceNet()
        let report = try net.load(from: try fixturePath("reference_net.safetensors"))
        XCTAssertTrue(report.isClean)
        net.eval()
        let x = try Tensor.loadNPY(try fixturePath("reference_net_input.npy"))
        let expected = try Tensor.loadNPY(try fixturePath("reference_net_output.npy")).floats()
        let y = try withoutGradients { try net(x) }.floats()
        XCTAssertEqual(y.count, expected.count)
        let worst = zip(y, expected).map { Swift.abs($0 - $1) }.max()!
        XCTAssertLessThan(worst, 1e-5)
    }

    func testSaveLoadRoundTripAndKeyErrors() throws {
        let dir = NSTemporaryDirectory() + "contour-nn-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let a = ReferenceNet(), b = ReferenceNet()
        try a.save(to: "\(dir)/a.safetensors")
        try b.load(from: "\(dir)/a.safetensors")
        for ((k, t), (_, u)) in zip(a.stateDict(), b.stateDict()) {
            XCTAssertEqual(try t.rawBytes(), try u.rawBytes(), k)
        }
        // A model with a different head: every problem is named.
        let other = try Sequential(Conv2d(1, 4, kernelSize: 5), Linear(3, 2))
        try other.save(to: "\(dir)/other.safetensors")
        XCTAssertThrowsError(try Sequential(Conv2d(1, 4, kernelSize: 3), Linear(3, 2), Linear(2, 2)).load(from: "\(dir)/other.safetensors")) { error in
            let m = "\(error)"
            XCTAssertTrue(m.contains("other.safetensors"), m)
            XCTAssertTrue(m.contains("missing keys: 2.weight, 2.bias"), m)
            XCTAssertTrue(m.contains("0.weight: file [4, 1, 5, 5] vs model [4, 1, 3, 3]"), m)
        }
        let lenient = try Sequential(Conv2d(1, 4, kernelSize: 5), Linear(3, 2), Linear(2, 2))
        let report = try lenient.load(from: "\(dir)/other.safetensors", strict: false)
        XCTAssertEqual(report.missing, ["2.weight", "2.bias"])
        XCTAssertEqual(try lenient.layers[1].parameters()[0].rawBytes(), try other.layers[1].parameters()[0].rawBytes())
    }

    func testKeyOverrideAndSnakeCase() throws {
        XCTAssertEqual(Module.stateKey("downBlocks"), "down_blocks")
        XCTAssertEqual(Module.stateKey("conv1"), "conv1")
        XCTAssertEqual(Module.stateKey("numBatchesTracked"), "num_batches_tracked")
        XCTAssertTrue(ReferenceNet().stateDict().contains { $0.name == "final.weight" })
    }

    func testTrainEvalFreezeAndDevice() throws {
        let net = ReferenceNet()
        XCTAssertTrue(net.downBlocks[1].norm.training)
        net.eval()
        XCTAssertFalse(net.downBlocks[1].norm.training)
        XCTAssertFalse(net.head.layers[0].training)
        net.train()
        XCTAssertTrue(net.head.layers[2].training)

        let total = net.trainableParameters().count
        try net.freeze(prefix: "down_blocks")
        XCTAssertEqual(net.trainableParameters().count, total - 8)
        try net.unfreeze()
        XCTAssertEqual(net.trainableParameters().count, total)

        // In-place casting keeps identity: an optimiser built before still holds the same tensors.
        let before = net.parameters()
        try net.to(.cpu, dtype: .float64)
        XCTAssertEqual(net.stem.weight.dtype, .float64)
        XCTAssertTrue(before[0].isSameTensor(as: net.stem.weight))
        XCTAssertEqual(net.downBlocks[0].norm.numBatchesTracked.dtype, .int64)
        XCTAssertThrowsError(try net.to(.cuda(0)))
    }

    func testBatchNormCountsBatchesOnlyInTraining() throws {
        let bn = try BatchNorm2d(2)
        let x = try Tensor.randn([4, 2, 3, 3])
        _ = try bn(x)
        _ = try bn(x)
        XCTAssertEqual(try bn.numBatchesTracked.item(), 2)
        bn.eval()
        _ = try bn(x)
        XCTAssertEqual(try bn.numBatchesTracked.item(), 2)
        XCTAssertThrowsError(try bn(try Tensor.randn([4, 2, 3]))) { XCTAssertTrue("\($0)".contains("BatchNorm2d")) }
    }

    func testDropoutModule() throws {
        let d = try Dropout(p: 0.5)
        let x = try Tensor.ones([1000])
        XCTAssertNotEqual(try d(x).floats(), try x.floats())
        d.eval()
        XCTAssertEqual(try d(x).floats(), try x.floats())
        XCTAssertThrowsError(try Dropout(p: 1.5))
    }
}
