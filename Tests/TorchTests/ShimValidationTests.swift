import XCTest
@testable import Torch
import Foundation

/// The shim validates codes on entry and never falls back to a default.
final class ShimValidationTests: XCTestCase {
    private func message(_ body: () throws -> Any) -> String {
        do {
            _ = try body()
            return "no error"
        } catch {
            return "\(error)"
        }
    }

    func testUnknownDTypeCodeIsAnErrorNamingIt() {
        let m = message { try Tensor.full([2], 1, dtypeCode: 99, deviceType: 0, deviceIndex: 0) }
        XCTAssertTrue(m.contains("unknown dtype code 99"), m)
        // A c10 ScalarType Contour does not support (complex64 = 9) is rejected the same way.
        let c = message { try Tensor.full([2], 1, dtypeCode: 9, deviceType: 0, deviceIndex: 0) }
        XCTAssertTrue(c.contains("unknown dtype code 9"), c)
        let d = message { try DType(code: 99) }
        XCTAssertTrue(d.contains("dtype code 99"), d)
    }

    func testUnknownDeviceIsAnErrorNamingIt() {
        let type = message { try Tensor.full([2], 1, dtypeCode: DType.float32.rawValue, deviceType: 7, deviceIndex: 0) }
        XCTAssertTrue(type.contains("unknown device type code 7"), type)
        let cpu = message { try Tensor.full([2], 1, dtypeCode: DType.float32.rawValue, deviceType: 0, deviceIndex: 3) }
        XCTAssertTrue(cpu.contains("CPU device index must be 0, got 3"), cpu)
        let cuda = message { try Tensor.zeros([2], device: .cuda(-1)) }
        XCTAssertTrue(cuda.contains("-1") || cuda.contains("CUDA unavailable"), cuda)
    }

    func testValidCodesStillWork() throws {
        let t = try Tensor.full([2], 3, dtypeCode: DType.int32.rawValue, deviceType: 0, deviceIndex: 0)
        XCTAssertEqual(t.dtype, .int32)
        XCTAssertEqual(t.device, .cpu)
        XCTAssertEqual(try t.ints(), [3, 3])
    }

    /// `grad` is nil exactly when there is no gradient (documented), not on failure.
    func testGradOfTensorWithoutGradientIsNil() throws {
        let plain = try Tensor([1, 2] as [Float])
        XCTAssertNil(plain.grad)
        let leaf = try Tensor([1, 2] as [Float]).requiringGrad()
        XCTAssertNil(leaf.grad, "no backward yet")
        try (leaf * leaf).sum().backward()
        XCTAssertEqual(try leaf.grad?.floats(), [2, 4])
    }

    func testNamedModesReachTheShim() throws {
        let x = try Tensor.arange(0, 16, dtype: .float32).reshape([1, 1, 4, 4])
        XCTAssertEqual(try x.maxPool(kernel: [2]).floats(), [5, 7, 13, 15])
        XCTAssertEqual(try x.avgPool(kernel: [2]).floats(), [2.5, 4.5, 10.5, 12.5])
        XCTAssertEqual(try x.interpolate(size: [2, 2], mode: .nearest).floats(), [0, 2, 8, 10])
        XCTAssertEqual(try x.pad([1, 0, 0, 0], mode: .replicate).shape, [1, 1, 4, 5])
        XCTAssertEqual(try x.pad([1, 1, 0, 0], mode: .circular).select(dim: 2, index: 0).floats(), [3, 0, 1, 2, 3, 0])
        let logits = try Tensor([0, 0, 0, 0] as [Float], shape: [2, 2]), target = try Tensor([0, 1] as [Int64])
        XCTAssertEqual(try logits.crossEntropy(target: target, reduction: .sum).item(), 2 * Foundation.log(2), accuracy: 1e-6)
        XCTAssertEqual(try logits.crossEntropy(target: target, reduction: .none).shape, [2])
        XCTAssertEqual(try Tensor.randint(3, 4, [5]).ints(), [3, 3, 3, 3, 3])
        XCTAssertEqual(try x.argmax(dim: -1).ints(), [3, 3, 3, 3])
    }
}
