import Foundation
import XCTest
@testable import Torch
import Geometry

final class SerializationTests: XCTestCase {
    var dir: String!

    override func setUpWithError() throws {
        dir = NSTemporaryDirectory() + "contour-torch-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: dir) }

    func testNPYWrittenByNumpy() throws {
        let f = try fixture("numpy_fortran_f64")  // np.asfortranarray(arange(24).reshape(2,3,4)/7)
        XCTAssertEqual(f.shape, [2, 3, 4])
        XCTAssertEqual(f.dtype, .float64)
        assertClose(try f.doubles(), (0..<24).map { Double($0) / 7 }, tol: 0)
        XCTAssertEqual(try fixture("numpy_int16").ints(), [-3, 0, 7, 32767, -32768, 1])
        XCTAssertEqual(try fixture("numpy_bool").toArray(Bool.self), [true, false, true])
    }

    func testNPYRoundTrip() throws {
        for dtype in [DType.float32, .float64, .int64, .int32, .uint8, .bool, .float16] {
            let t = try Tensor([0, 1, 2, 3, 4, 5] as [Double], shape: [3, 2]).to(dtype)
            let path = "\(dir!)/t.npy"
            try t.saveNPY(path)
            let u = try Tensor.loadNPY(path)
            XCTAssertEqual(u.dtype, dtype)
            XCTAssertEqual(u.shape, [3, 2])
            XCTAssertEqual(try u.rawBytes(), try t.rawBytes(), "\(dtype)")
        }
        XCTAssertThrowsError(try Tensor.loadNPY("\(dir!)/missing.npy")) { XCTAssertTrue("\($0)".contains("missing.npy")) }
    }

    func testSafetensorsRoundTripAndLayout() throws {
        let a = try Tensor.arange(0, 6, dtype: .float32).reshape([2, 3])
        let b = try Tensor([1, -1] as [Int64])
        let c = try Tensor([0.5] as [Double]).to(.bfloat16)
        let path = "\(dir!)/m.safetensors"
        try Safetensors.save([("layer.weight", a), ("layer.index", b), ("half", c)], metadata: ["format": "pt"], to: path)
        let bytes = try AtomicFile.read(path)
        // Header: little-endian u64 length, JSON, 8-byte aligned payload.
        var n = 0
        for i in 0..<8 { n |= Int(bytes[i]) << (8 * i) }
        XCTAssertEqual(n % 8, 0)
        let header = String(decoding: bytes[8..<(8 + n)], as: UTF8.self)
        XCTAssertTrue(header.contains("\"layer.weight\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,24]}"), header)
        XCTAssertEqual(bytes.count, 8 + n + 24 + 16 + 2)
        let file = try Safetensors.load(path)
        XCTAssertEqual(file.metadata, ["format": "pt"])
        XCTAssertEqual(file.tensors.map(\.name), ["layer.weight", "layer.index", "half"])
        XCTAssertEqual(try file["layer.weight"]?.floats(), [0, 1, 2, 3, 4, 5])
        XCTAssertEqual(try file["layer.index"]?.ints(), [1, -1])
        XCTAssertEqual(file["half"]?.dtype, .bfloat16)
        XCTAssertEqual(try file["half"]?.doubles(), [0.5])
    }

    func testSafetensorsRejectsCorruptFiles() throws {
        let good = try Safetensors.encode([("x", try Tensor.ones([4]))])
        XCTAssertThrowsError(try Safetensors.decode(Array(good.dropLast(2)), name: "cut.safetensors")) {
            XCTAssertTrue("\($0)".contains("cut.safetensors"), "\($0)")
        }
        XCTAssertThrowsError(try Safetensors.decode([1, 2, 3]))
        XCTAssertThrowsError(try Safetensors.encode([("x", try Tensor.ones([1])), ("x", try Tensor.ones([1]))]))
    }

    func testAtomicWriteReplacesWholeFile() throws {
        let path = "\(dir!)/f.bin"
        try AtomicFile.write([1, 2, 3], to: path)
        try AtomicFile.write([9], to: path)
        XCTAssertEqual(try AtomicFile.read(path), [9])
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.contains(".tmp-") }
        XCTAssertEqual(leftovers, [])
        XCTAssertThrowsError(try AtomicFile.write([1], to: "/nonexistent-dir/x"))
    }
}

extension SerializationTests {
    /// uint64 widens to int64 exactly, and a value that does not fit is an error, not a trap.
    func testUnsignedNPYWidensExactlyOrFails() throws {
        let dir: String = self.dir
        let exact: UInt64 = (1 << 53) + 1  // not representable as a Double
        let ok = NPYArray(shape: [2], elements: [exact, 7] as [UInt64])
        try Data(ok.encoded()).write(to: URL(fileURLWithPath: "\(dir)/ok.npy"))
        let t = try Tensor.loadNPY("\(dir)/ok.npy")
        XCTAssertEqual(t.dtype, .int64)
        XCTAssertEqual(try t.toArray(Int64.self), [Int64(exact), 7])
        let big = NPYArray(shape: [1], elements: [UInt64.max])
        try Data(big.encoded()).write(to: URL(fileURLWithPath: "\(dir)/big.npy"))
        XCTAssertThrowsError(try Tensor.loadNPY("\(dir)/big.npy")) { error in
            XCTAssertTrue("\(error)".contains("\(UInt64.max)"), "\(error)")
        }
    }
}
