import Foundation
import XCTest
@testable import Torch

/// `.pth` files written by torch.save (scripts/fixtures/make_pth_fixtures.py) against the same
/// tensors written as safetensors by the reference writer, compared byte for byte.
final class PyTorchCheckpointTests: XCTestCase {
    func path(_ name: String) throws -> String {
        guard let url = Bundle.module.url(forResource: name, withExtension: nil, subdirectory: "Fixtures") else {
            throw TorchError("missing fixture \(name)")
        }
        return url.path
    }

    func assertMatchesReference(_ tensors: [(name: String, tensor: Tensor)], _ reference: String,
                                file: StaticString = #filePath, line: UInt = #line) throws {
        let ref = try Safetensors.load(try path("\(reference).reference.safetensors"))
        let order = try String(contentsOfFile: try path("\(reference).reference.order.txt"), encoding: .utf8)
            .split(separator: "\n").map(String.init)
        XCTAssertEqual(tensors.map(\.name), order, "file order", file: file, line: line)
        for (name, t) in tensors {
            guard let r = ref[name] else { XCTFail("\(name) not in the reference", file: file, line: line); continue }
            XCTAssertEqual(t.dtype, r.dtype, name, file: file, line: line)
            XCTAssertEqual(t.shape, r.shape, name, file: file, line: line)
            XCTAssertEqual(try t.rawBytes(), try r.rawBytes(), name, file: file, line: line)
        }
    }

    func testEveryDtypeViewStrideAndScalar() throws {
        let f = try PyTorchCheckpoint.load(try path("pth_dtypes.pth"))
        XCTAssertNil(f.wrapperKey)
        try assertMatchesReference(f.tensors, "pth_dtypes")
        let byName = Dictionary(uniqueKeysWithValues: f.tensors.map { ($0.name, $0.tensor) })
        // Independent checks of what the reference encodes.
        XCTAssertEqual(byName["transposed"]!.shape, [6, 4])
        XCTAssertEqual(try byName["transposed"]!.floats(), try byName["base"]!.transposed(0, 1).contiguous().floats())
        XCTAssertEqual(try byName["row_view"]!.floats(), Array(try byName["base"]!.floats()[6..<18]))
        XCTAssertEqual(byName["scalar"]!.shape, [])
        XCTAssertEqual(try byName["scalar"]!.item(), 3.25)
        XCTAssertEqual(byName["empty"]!.shape, [0, 3])
        XCTAssertEqual(try byName["i64"]!.toArray(Int64.self), [-3, 0, 1 << 40, 7])
        XCTAssertEqual(try byName["flags"]!.toArray(Bool.self), [true, false, true])
        XCTAssertEqual(byName["bf16"]!.dtype, .bfloat16)
        XCTAssertEqual(byName["num_batches_tracked"]!.dtype, .int64)
        // Views of one storage do not alias after loading.
        try byName["base"]!.copyInPlace(from: Tensor.zeros([4, 6]))
        XCTAssertNotEqual(try byName["transposed"]!.floats(), [Float](repeating: 0, count: 24))
    }

    func testTorchvisionShapedStateDictAndWrapper() throws {
        let plain = try WeightFile.load(try path("pth_tiny.pth"))
        XCTAssertEqual(plain.format, .pytorch)
        try assertMatchesReference(plain.tensors, "pth_tiny")
        XCTAssertEqual(plain.tensors.map(\.name), ["conv1.weight", "bn1.weight", "bn1.bias", "bn1.running_mean", "bn1.running_var",
                                                   "bn1.num_batches_tracked", "fc.weight", "fc.bias"])
        let wrapped = try PyTorchCheckpoint.load(try path("pth_wrapped.pth"))
        XCTAssertEqual(wrapped.wrapperKey, "state_dict")
        try assertMatchesReference(wrapped.tensors, "pth_tiny")
        let st = try WeightFile.load(try path("pth_tiny.reference.safetensors"))
        XCTAssertEqual(st.format, .safetensors)
    }

    func testRefusesCodeExecutionLegacyAndBigEndian() throws {
        let bad = try path("pth_malicious.pth")
        XCTAssertThrowsError(try PyTorchCheckpoint.load(bad)) { e in
            let m = "\(e)"
            XCTAssertTrue(m.contains(bad) && m.contains("os.system") && m.contains("GLOBAL"), m)
        }
        XCTAssertThrowsError(try WeightFile.load(try path("pth_legacy.pth"))) { e in
            XCTAssertTrue("\(e)".contains("_use_new_zipfile_serialization=True"), "\(e)")
        }
        XCTAssertThrowsError(try PyTorchCheckpoint.load(try path("pth_bigendian.pth"))) { e in
            XCTAssertTrue("\(e)".contains("big"), "\(e)")
        }
    }

    /// A safetensors header length of 128 (first byte 0x80, as a pickle's PROTO) is still safetensors.
    func testSafetensorsStartingWith0x80IsNotTakenForAPickle() throws {
        let t = try Tensor([Float(1), 2], shape: [2])
        guard let n = (1...200).first(where: { (try? Safetensors.encode([(String(repeating: "k", count: $0), t)]))?.first == 0x80 }) else {
            return XCTFail("no name length gives a 128-byte header")
        }
        let path = NSTemporaryDirectory() + "contour-0x80-\(UUID().uuidString).safetensors"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try Safetensors.save([(String(repeating: "k", count: n), t)], to: path)
        let f = try WeightFile.load(path)
        XCTAssertEqual(f.format, .safetensors)
        XCTAssertEqual(try f.tensors[0].tensor.floats(), [1, 2])
    }

    /// {'w': _rebuild_tensor_v2(storage of 2 floats, 0, (size,), (stride,), False)}, hand-assembled.
    func tensorPickle(size: Int, stride: Int) -> [UInt8] {
        func global(_ m: String, _ n: String) -> [UInt8] { [0x63] + Array("\(m)\n\(n)\n".utf8) }
        func str(_ s: String) -> [UInt8] { [0x58, UInt8(s.utf8.count), 0, 0, 0] + Array(s.utf8) }
        return [0x80, 0x02, 0x7d, 0x28] + str("w") + global("torch._utils", "_rebuild_tensor_v2") + [0x28, 0x28] + str("storage")
            + global("torch", "FloatStorage") + str("0") + str("cpu") + [0x4b, 2, 0x74, 0x51, 0x4b, 0]
            + [0x4b, UInt8(size), 0x85, 0x4b, UInt8(stride), 0x85, 0x89, 0x74, 0x52, 0x75, 0x2e]
    }

    func testViewsOutsideTheirStorageAreRefused() throws {
        let storage: (String) throws -> [UInt8] = { _ in try Tensor([Float(1), 2], shape: [2]).rawBytes() }
        let ok = try PyTorchCheckpoint.decode(pickle: tensorPickle(size: 2, stride: 1), source: "t.pth", storage: storage)
        XCTAssertEqual(try ok.tensors[0].tensor.floats(), [1, 2])
        XCTAssertEqual(try PyTorchCheckpoint.decode(pickle: tensorPickle(size: 1, stride: 1), source: "t.pth", storage: storage)
            .tensors[0].tensor.floats(), [1])
        for (size, stride) in [(3, 1), (2, 2)] {
            XCTAssertThrowsError(try PyTorchCheckpoint.decode(pickle: tensorPickle(size: size, stride: stride), source: "t.pth", storage: storage)) { e in
                XCTAssertTrue("\(e)".contains("of a storage of 2"), "\(e)")
            }
        }
    }

    /// Hand-assembled pickles: opcodes outside the subset are named, never run.
    func testPickleSubset() throws {
        let host = Pickle.Host(globals: [], reduce: { g, _ in throw TorchError("no \(g)") }, persistentLoad: { _ in .none })
        // {'a': [1, -2, 2**40], 'b': (1.5, True, None)} at protocol 2
        let ok: [UInt8] = [0x80, 0x02, 0x7d, 0x71, 0x00, 0x28, 0x58, 0x01, 0, 0, 0, 0x61, 0x5d, 0x71, 0x01, 0x28,
                           0x4b, 0x01, 0x4a, 0xfe, 0xff, 0xff, 0xff, 0x8a, 0x06, 0, 0, 0, 0, 0, 0x01, 0x65,
                           0x58, 0x01, 0, 0, 0, 0x62, 0x47, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0, 0x88, 0x4e, 0x87, 0x75, 0x2e]
        guard case .dict(let d) = try Pickle.load(ok, source: "t", host: host) else { return XCTFail("not a dict") }
        guard case .list(let l)? = d["a"], case .tuple(let t)? = d["b"] else { return XCTFail("entries") }
        XCTAssertEqual(PickleValue.list(l).ints, [1, -2, 1 << 40])
        guard case .float(1.5) = t[0], case .bool(true) = t[1], case .none = t[2] else { return XCTFail("\(t)") }
        // NEWOBJ (0x81) is refused by name.
        XCTAssertThrowsError(try Pickle.load([0x80, 0x02, 0x81, 0x2e], source: "t", host: host)) { e in
            XCTAssertTrue("\(e)".contains("NEWOBJ"), "\(e)")
        }
    }
}
