import Foundation
import XCTest
@testable import Torch

func fixture(_ name: String) throws -> Tensor {
    guard let url = Bundle.module.url(forResource: name, withExtension: "npy", subdirectory: "Fixtures") else {
        throw TorchError("missing fixture \(name).npy")
    }
    return try Tensor.loadNPY(url.path)
}

func assertClose(_ a: Tensor, _ b: Tensor, atol: Double = 1e-6, rtol: Double = 1e-5,
                 file: StaticString = #filePath, line: UInt = #line) throws {
    XCTAssertEqual(a.shape, b.shape, "shapes differ", file: file, line: line)
    guard a.shape == b.shape else { return }
    let x = try a.doubles(), y = try b.doubles()
    var worst = 0.0, at = 0
    for i in 0..<x.count {
        let excess = Swift.abs(x[i] - y[i]) - (atol + rtol * Swift.abs(y[i]))
        if excess > worst { worst = excess; at = i }
    }
    XCTAssertLessThanOrEqual(worst, 0, "element \(at): \(x[at]) vs \(y[at])", file: file, line: line)
}

func assertClose(_ a: [Double], _ b: [Double], tol: Double = 1e-6, file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(a.count, b.count, file: file, line: line)
    for (i, (x, y)) in zip(a, b).enumerated() where Swift.abs(x - y) > tol {
        XCTFail("element \(i): \(x) vs \(y)", file: file, line: line)
        return
    }
}

/// Central finite differences of the scalar `f` with respect to every element of `x` (float64).
func numericGradient(_ x: Tensor, eps: Double = 1e-6, _ f: (Tensor) throws -> Tensor) throws -> [Double] {
    let base = try x.doubles()
    var grad = [Double](repeating: 0, count: base.count)
    for i in 0..<base.count {
        var p = base, m = base
        p[i] += eps
        m[i] -= eps
        let fp = try f(try Tensor(p, shape: x.shape)).item()
        let fm = try f(try Tensor(m, shape: x.shape)).item()
        grad[i] = (fp - fm) / (2 * eps)
    }
    return grad
}

/// Checks autograd's gradient of a random projection of `f(x)` against finite differences.
func checkGradient(shape: [Int], seed: UInt64 = 7, tol: Double = 1e-6, file: StaticString = #filePath, line: UInt = #line,
                   _ f: @escaping (Tensor) throws -> Tensor) throws {
    let g = try Generator(seed: seed)
    let x = try Tensor.randn(shape, dtype: .float64, generator: g)
    let probe = try Tensor.randn(try f(x).shape, dtype: .float64, generator: g)
    let objective: (Tensor) throws -> Tensor = { try (f($0) * probe).sum() }
    let leaf = try x.clone().requiringGrad()
    try objective(leaf).backward()
    let analytic = try XCTUnwrap(leaf.grad, file: file, line: line).doubles()
    let numeric = try numericGradient(x, objective)
    assertClose(analytic, numeric, tol: tol, file: file, line: line)
}

/// Resident memory of this process in bytes.
func residentBytes() -> Int {
    guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
    let fields = text.split(separator: " ")
    return (Int(fields[1]) ?? 0) * Int(sysconf(Int32(_SC_PAGESIZE)))
}
