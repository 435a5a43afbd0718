import Foundation
import XCTest
import NeuralNet
import Torch
@testable import Objectives

/// `every: n`: weights and projections are decided on steps 0, n, 2n, … and reused between.
final class RecomputeScheduleTests: XCTestCase {
    func grads(_ rows: [[Double]]) throws -> [Tensor] { try rows.map { try Tensor($0, shape: [$0.count]) } }

    func testWeightsAreReusedBetweenRecomputations() throws {
        let first = [[1.0, 0], [0, 2]], second = [[1.0, 0], [0, 1]]
        for name in ["agb", "fairgrad", "nash-mtl", "mgda"] {
            let every2 = try BalancerRegistry.make(name, options: ["every": .number(2)])
            let fresh = try BalancerRegistry.make(name)
            _ = try every2.combine(grads(first), losses: [0, 0])
            let w0 = try XCTUnwrap(every2.lastWeights)
            let d1 = try every2.combine(grads(second), losses: [0, 0]).doubles()
            XCTAssertEqual(every2.lastWeights, w0, "\(name): step 1 reuses step 0's weights")
            assertClose(d1, [w0[0], w0[1]], atol: 1e-12, rtol: 0, "\(name): d from the stored weights")
            _ = try every2.combine(grads(second), losses: [0, 0])
            _ = try fresh.combine(grads(second), losses: [0, 0])
            assertClose(try XCTUnwrap(every2.lastWeights), try XCTUnwrap(fresh.lastWeights), atol: 1e-12, rtol: 0, "\(name): step 2 solves again")
        }
    }

    func testProjectionCoefficientsAreReused() throws {
        let caob = try BalancerRegistry.make("caob", options: ["every": .number(3)]) as! CAOB
        _ = try caob.combine(grads([[1, 0], [-0.5, 1]]), losses: [0, 0])
        XCTAssertEqual(caob.lastProjected, [1])
        // No conflict now, but the stored c = −0.5 still applies: (0.5, 1) − (−0.5)(1, 0) = (1, 1).
        let pgp = try BalancerRegistry.make("pgp", options: ["every": .number(3)]) as! PGP
        _ = try pgp.combine(grads([[1, 0], [-0.5, 1]]), losses: [0, 0])
        let d = try pgp.combine(grads([[1, 0], [0.5, 1]]), losses: [0, 0]).doubles()
        XCTAssertEqual(pgp.lastProjected, [1])
        assertClose(d, [2, 1], atol: 1e-12, rtol: 0, "stored coefficient")
    }

    /// The linear coefficients a decision stores reproduce its own direction, so a reuse step
    /// (one backward of Σ cₖLₖ) is the same update as combining per-objective gradients.
    func testStoredCoefficientsReproduceTheDecidedDirection() throws {
        let g = try grads([[1, 0, 0.5], [-0.5, 1, 0], [0.2, -1, 2]])
        for (name, options) in [("caob", [String: ConfigValue]()), ("caob", ["useUnitGram": .bool(true)]), ("pgp", [:]),
                                ("agb", ["useUnitGram": .bool(true)]), ("fairgrad", [:]), ("nash-mtl", [:]), ("mgda", [:])] {
            var o = options
            o["every"] = .number(2)
            let b = try BalancerRegistry.make(name, options: o)
            let d = try b.combine(g, losses: [0, 0, 0]).doubles()
            let w = b.lastWeights
            let c = try XCTUnwrap(b.reusedCoefficients(objectives: 3), "\(name) \(options): step 1 reuses")
            let viaC = (0..<3).map { i in (0..<3).reduce(0.0) { $0 + c[$1] * (try! g[$1].doubles())[i] } }
            assertClose(viaC, d, atol: 1e-6, rtol: 1e-6, "\(name) \(options)")
            XCTAssertEqual(b.lastWeights, w, "\(name): a reuse step keeps the decided weights")
            XCTAssertNil(b.reusedCoefficients(objectives: 3), "\(name): step 2 decides afresh")
            XCTAssertNil(try BalancerRegistry.make(name).reusedCoefficients(objectives: 3), "\(name): every 1 never reuses")
        }
    }

    func testStateRoundTripsForResume() throws {
        let a = try BalancerRegistry.make("caob", options: ["every": .number(2)])
        _ = try a.combine(grads([[1, 0], [-0.5, 1], [0, 3]]), losses: [0, 0, 0])
        let b = try BalancerRegistry.make("caob", options: ["every": .number(2)])
        try b.load(state: a.state())
        let next = try grads([[1, 0], [0.3, 1], [0, 1]])
        assertClose(try b.combine(next, losses: [0, 0, 0]).doubles(), try a.combine(next, losses: [0, 0, 0]).doubles(),
                    atol: 0, rtol: 0, "resumed step")
        XCTAssertThrowsError(try b.load(state: ["step": .string("x")])) {
            XCTAssertTrue("\($0)".contains("step"), "\($0)")
        }
        XCTAssertThrowsError(try BalancerRegistry.make("agb", options: ["every": .number(0)])) {
            XCTAssertTrue("\($0)".contains("every"), "\($0)")
        }
    }
}
