import Foundation
import XCTest
import NeuralNet
import Torch
@testable import Objectives

/// The bounded least-squares solve behind agb, fairgrad and nash-mtl, against the §3.6 table and
/// scipy.optimize.least_squares(bounds=(0, inf)) (scripts/fixtures/make_balancer_fixtures.py).
final class BalancerSolverTests: XCTestCase {
    struct SolverCase: Decodable { let name: String; let power: Double; let gram: [[Double]]; let alpha: [Double] }
    struct GradientCase: Decodable {
        let name: String; let balancer: String; let options: [String: ConfigValue]
        let gradients: [[Double]]; let alpha: [Double]; let direction: [Double]; let projected: [Int]?
    }

    func load<T: Decodable>(_ file: String, as: T.Type) throws -> T {
        guard let url = Bundle.module.url(forResource: file, withExtension: "json", subdirectory: "Fixtures/balancers") else {
            throw ObjectiveError("missing fixture balancers/\(file).json (scripts/fixtures/make_balancer_fixtures.py)")
        }
        return try JSONDecoder().decode(T.self, from: Data(contentsOf: url))
    }

    func ridged(_ A: [[Double]]) -> [[Double]] {
        A.enumerated().map { i, row in row.enumerated().map { j, v in i == j ? v + 1e-12 : v } }
    }

    func testAGBTableOfTheSpec() throws {
        let cases: [([[Double]], [Double], [Double])] = [
            ([[1, 0.2], [0.2, 4]], [0.951834, 0.365773], [0.722396, 0.277604]),
            ([[2, -0.5, 0.1], [-0.5, 1, 0], [0.1, 0, 0.5]], [0.804494, 1.284560, 1.481988], [0.225283, 0.359716, 0.415002]),
        ]
        for (A, raw, normalised) in cases {
            let alpha = try FairnessWeights(power: 0.5).solve(gram: ridged(A))
            assertClose(alpha, raw, atol: 1e-5, rtol: 0, "raw α for \(A)")
            let s = alpha.reduce(0, +) + 1e-12
            assertClose(alpha.map { $0 / s }, normalised, atol: 1e-5, rtol: 0, "normalised α for \(A)")
        }
    }

    func testSolverMatchesSciPyOnRandomGrams() throws {
        let cases = try load("solver", as: [SolverCase].self)
        XCTAssertEqual(cases.count, 9)
        for c in cases {
            let alpha = try FairnessWeights(power: c.power).solve(gram: c.gram)
            assertClose(alpha, c.alpha, atol: 1e-5, rtol: 1e-5, c.name)
        }
    }

    func testBalancersMatchSciPyOnGradients() throws {
        for c in try load("gradients", as: [GradientCase].self) {
            let balancer = try BalancerRegistry.make(c.balancer, options: c.options)
            let rows = try c.gradients.map { try Tensor($0.map { Float($0) }, shape: [$0.count]) }
            let d = try balancer.combine(rows, losses: rows.map { _ in 0 })
            assertClose(try XCTUnwrap(balancer.lastWeights), c.alpha, atol: 1e-5, rtol: 1e-5, "\(c.name) α")
            assertClose(try d.doubles(), c.direction, atol: 1e-4, rtol: 1e-4, "\(c.name) d")
            XCTAssertEqual(d.dtype, .float32, "\(c.name): d keeps the gradients' dtype")
            if let projected = c.projected { XCTAssertEqual((balancer as? any ProjectingBalancer)?.lastProjected, projected, c.name) }
        }
    }

    /// Analytic: the minimum of ½((x−2)² + (y+1)²) over x, y ≥ 0 is (2, 0), on the bound.
    func testSolverStopsAtTheBound() throws {
        let x = try BoundedLeastSquares().solve(start: [1, 1], lower: [0, 0]) { x in ([x[0] - 2, x[1] + 1], [[1, 0], [0, 1]]) }
        assertClose(x, [2, 0], atol: 1e-6, rtol: 0, "bounded minimum")
    }

    func testAnchoredPrimaryIsFixedAndSolvesTheOtherRows() throws {
        let A = ridged([[1, 0.2], [0.2, 4]])
        let alpha = try FairnessWeights(power: 0.5, anchor: 0).solve(gram: A, anchorAt: 0)
        XCTAssertEqual(alpha[0], 1)
        // One unknown β minimising (1 + 0.2β − (1+ε)^−½)² + (0.2 + 4β − (β+ε)^−½)²: its derivative vanishes.
        let f = { (b: Double) -> Double in
            let r0 = A[0][0] + A[0][1] * b - 1 / (1 + 1e-8).squareRoot(), r1 = A[1][0] + A[1][1] * b - 1 / (b + 1e-8).squareRoot()
            return 0.5 * (r0 * r0 + r1 * r1)
        }
        let h = 1e-6
        XCTAssertLessThan(Swift.abs((f(alpha[1] + h) - f(alpha[1] - h)) / (2 * h)), 1e-6)
        XCTAssertGreaterThan(alpha[1], 0)
    }
}
