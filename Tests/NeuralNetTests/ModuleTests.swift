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
        XCTAssertThrowsError(try net.to(.cuda(Device.cudaDeviceCount)))
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

// MARK: - Structure: dictionaries, caching, unsupported containers

final class HeadsNet: Module {
    let trunk: Linear
    let heads: [String: Module]
    @Buffer var anchors: [String: Tensor]
    let spacing: [Double] = Array(repeating: 1, count: 1000)  // plain data: ignored, cheaply

    init(_ n: Int = 1) throws {
        trunk = try Linear(2, 2)
        heads = ["seg": try Linear(2, 3), "aux": try Linear(2, 1, bias: false)]
        anchors = ["b": try Tensor.zeros([1]), "a": try Tensor.ones([2])]
        super.init()
    }
}

final class SetNet: Module {
    let blocks: Set<HashableBlock>
    init(_ n: Int = 1) throws {
        blocks = [HashableBlock(try Linear(1, 1))]
        super.init()
    }
}

final class HashableBlock: Hashable {
    let layer: Linear
    init(_ layer: Linear) { self.layer = layer }
    static func == (a: HashableBlock, b: HashableBlock) -> Bool { a === b }
    func hash(into h: inout Hasher) { h.combine(ObjectIdentifier(self)) }
}

final class TupleNet: Module {
    let pair: (Linear, Linear)
    init(_ n: Int = 1) throws {
        pair = (try Linear(1, 1), try Linear(1, 1))
        super.init()
    }
}

final class IntKeyedNet: Module {
    let byLevel: [Int: Linear]
    init(_ n: Int = 1) throws {
        byLevel = [0: try Linear(1, 1)]
        super.init()
    }
}

final class Swappable: Module {
    var inner: Linear
    init(_ n: Int = 1) throws {
        inner = try Linear(1, 1)
        super.init()
    }
}

extension ModuleTests {
    func testDictionaryChildrenAreKeyedInSortedOrder() throws {
        let net = try HeadsNet()
        XCTAssertEqual(net.namedChildren().map(\.name), ["trunk", "heads.aux", "heads.seg"])
        XCTAssertEqual(net.stateDict().map(\.name), [
            "anchors.a", "anchors.b",
            "trunk.weight", "trunk.bias", "heads.aux.weight", "heads.seg.weight", "heads.seg.bias",
        ])
        XCTAssertEqual(net.namedBuffers().map(\.name), ["anchors.a", "anchors.b"])
        XCTAssertEqual(net.parameters().count, 5)
        XCTAssertNoThrow(try net.validateStructure())
    }

    func testStructureIsReflectedOnceAndReused() throws {
        let net = try HeadsNet()
        XCTAssertEqual(net.structureBuildCount, 0, "reflection is lazy")
        let first = net.parameters()
        _ = net.stateDict()
        _ = net.namedChildren()
        let second = net.parameters()
        XCTAssertEqual(net.structureBuildCount, 1)
        XCTAssertEqual(first.count, second.count)
        for (a, b) in zip(first, second) { XCTAssertTrue(a.isSameTensor(as: b)) }
        net.invalidateStructure()
        _ = net.parameters()
        XCTAssertEqual(net.structureBuildCount, 2)
    }

    func testInvalidateStructureSeesReassignedChildren() throws {
        let net = try Swappable()
        let old = net.parameters()[0]
        net.inner = try Linear(1, 1)
        XCTAssertTrue(net.parameters()[0].isSameTensor(as: old), "cached until invalidated (documented)")
        net.invalidateStructure()
        XCTAssertTrue(net.parameters()[0].isSameTensor(as: net.inner.weight))
        // NeuralNet's own layers invalidate in their setters.
        let layer = try Linear(1, 1)
        _ = layer.parameters()
        layer.weight = try Tensor.zeros([1, 1])
        XCTAssertTrue(layer.parameters()[0].isSameTensor(as: layer.weight))
    }

    func testUnsupportedContainersAreErrorsNamingTheProperty() throws {
        func message(_ module: Module) -> String {
            do {
                try module.validateStructure()
                return "no error"
            } catch {
                return "\(error)"
            }
        }
        let set = message(try SetNet())
        XCTAssertTrue(set.contains("SetNet") && set.contains("'blocks'") && set.contains("set"), set)
        let tuple = message(try TupleNet())
        XCTAssertTrue(tuple.contains("'pair'") && tuple.contains("tuple"), tuple)
        let keyed = message(try IntKeyedNet())
        XCTAssertTrue(keyed.contains("'byLevel'") && keyed.contains("keyed by Int"), keyed)
        // Nested: the path to the offending module is named too.
        let nested = Sequential(try Linear(1, 1), Identity())
        XCTAssertNoThrow(try nested.validateStructure())
        // Checkpoints refuse to save a model that would lose weights.
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("tuple-\(UUID()).safetensors").path
        XCTAssertThrowsError(try TupleNet().save(to: path))
        // The non-throwing API still works (the unsupported parts are skipped, as reported).
        XCTAssertEqual(try TupleNet().parameters().count, 0)
    }
}
