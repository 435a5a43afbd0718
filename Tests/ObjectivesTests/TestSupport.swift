import Foundation
import XCTest
import Torch
@testable import Objectives

func fixtureURL(_ name: String, _ ext: String) throws -> URL {
    guard let url = Bundle.module.url(forResource: name, withExtension: ext, subdirectory: "Fixtures") else {
        throw ObjectiveError("missing fixture \(name).\(ext) (scripts/fixtures/make_objectives_fixtures.py)")
    }
    return url
}

func fixture(_ name: String) throws -> Tensor { try Tensor.loadNPY(fixtureURL(name, "npy").path) }

/// |a − b| ≤ atol + rtol·|b| element-wise.
func assertClose(_ a: Tensor, _ b: Tensor, atol: Double = 1e-9, rtol: Double = 1e-5, _ what: String = "",
                 file: StaticString = #filePath, line: UInt = #line) throws {
    XCTAssertEqual(a.shape, b.shape, "\(what): shapes differ", file: file, line: line)
    guard a.shape == b.shape else { return }
    try assertClose(a.doubles(), b.doubles(), atol: atol, rtol: rtol, what, file: file, line: line)
}

func assertClose(_ x: [Double], _ y: [Double], atol: Double = 1e-9, rtol: Double = 1e-5, _ what: String = "",
                 file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(x.count, y.count, "\(what): counts differ", file: file, line: line)
    for i in 0..<min(x.count, y.count) where !(Swift.abs(x[i] - y[i]) <= atol + rtol * Swift.abs(y[i])) {
        XCTFail("\(what): element \(i): \(x[i]) vs \(y[i])", file: file, line: line)
        return
    }
}

func assertClose(_ a: Double, _ b: Double, tol: Double = 1e-6, _ what: String = "",
                 file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertLessThanOrEqual(Swift.abs(a - b), tol, "\(what): \(a) vs \(b)", file: file, line: line)
}

/// The loss and d loss / d logits of `objective` (float64 logits).
func lossAndGradient(_ objective: any Objective, logits: Tensor, target: LossTarget) throws -> (Double, Tensor) {
    let x = try logits.to(.float64).clone().requiringGrad()
    let loss = try objective(logits: x, target: target)
    let g = try gradients(of: loss, with: [x])[0]!
    return (try loss.item(), g)
}

/// Central finite differences of a scalar function of `x` (float64).
func numericGradient(_ x: Tensor, eps: Double = 1e-6, _ f: (Tensor) throws -> Double) throws -> [Double] {
    let base = try x.doubles()
    var grad = [Double](repeating: 0, count: base.count)
    for i in 0..<base.count {
        var p = base, m = base
        p[i] += eps
        m[i] -= eps
        grad[i] = (try f(try Tensor(p, shape: x.shape)) - f(try Tensor(m, shape: x.shape))) / (2 * eps)
    }
    return grad
}

func tensor(_ values: [Double], _ shape: [Int]) throws -> Tensor { try Tensor(values, shape: shape) }

func labels(_ values: [Int64], _ shape: [Int]) throws -> LossTarget { try LossTarget(labels: Tensor(values, shape: shape)) }

/// The value of a registry objective (a local binding: calling a fresh existential inline
/// crashes Swift 6.3's SILGen).
func lossValue(_ name: String, _ json: String = "{}", _ logits: Tensor, _ target: LossTarget) throws -> Double {
    let objective = try ObjectiveRegistry.make(name, json: json)
    let loss = try objective(logits: logits, target: target)
    return try loss.item()
}
