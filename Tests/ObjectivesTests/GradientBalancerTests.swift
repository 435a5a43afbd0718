import Foundation
import XCTest
import NeuralNet
import Torch
@testable import Objectives

/// pgp, agb, caob, fairgrad, nash-mtl and mgda on hand-made gradient sets with known answers.
final class GradientBalancerTests: XCTestCase {
    func grads(_ rows: [[Double]]) throws -> [Tensor] { try rows.map { try Tensor($0, shape: [$0.count]) } }

    func combine(_ name: String, _ rows: [[Double]], _ options: [String: ConfigValue] = [:],
                 dtype: DType = .float64) throws -> (any Balancer, [Double]) {
        let b = try BalancerRegistry.make(name, options: options)
        let d = try b.combine(grads(rows).map { try $0.to(dtype) }, losses: rows.map { _ in 0 })
        return (b, try d.doubles())
    }

    /// METHODS §3.6: with g_S = (1, 0), (−0.5, 1) → (0, 1); (−0.005, 1) is kept (−0.005 ≥ −0.01).
    func testPGPExampleOfTheSpec() throws {
        let pgp = PGP()
        let (purified, projected) = try pgp.purify(grads([[1, 0], [-0.5, 1], [-0.005, 1]]))
        XCTAssertEqual(projected, [1])
        assertClose(try purified[1].doubles(), [0, 1], atol: 1e-12, rtol: 0, "g_A")
        assertClose(try purified[2].doubles(), [-0.005, 1], atol: 0, rtol: 0, "g_P")
        let (b, d) = try combine("pgp", [[1, 0], [-0.5, 1], [-0.005, 1]])
        assertClose(d, [0.995, 2], atol: 1e-12, rtol: 0, "plain sum")
        XCTAssertEqual((b as? PGP)?.lastProjected, [1])
        XCTAssertEqual(b.lastWeights, [1, 1, 1])
        // Slack 0 is PCGrad against the primary: −0.005 is then projected too.
        XCTAssertEqual(try PGP(slack: 0).purify(grads([[1, 0], [-0.005, 1]])).projected, [1])
    }

    func testPGPProjectsAgainstTheOriginalPrimaryOnly() throws {
        // g₂ conflicts with g₁ but not with g₀: untouched.
        let (purified, projected) = try PGP().purify(grads([[1, 0], [0, 1], [0.5, -1]]))
        XCTAssertEqual(projected, [])
        assertClose(try purified[2].doubles(), [0.5, -1], atol: 0, rtol: 0, "g₂")
    }

    /// Orthogonal unit gradients: A = I, α = (α+ε)^−½ has the root α³ᐟ² ≈ 1 each.
    func testAGBOrthogonal() throws {
        let (b, d) = try combine("agb", [[1, 0], [0, 1]], ["normalize": .bool(false)])
        assertClose(try XCTUnwrap(b.lastWeights), [1, 1], atol: 1e-6, rtol: 0, "raw α")
        assertClose(d, [1, 1], atol: 1e-6, rtol: 0, "d")
        let (n, dn) = try combine("agb", [[1, 0], [0, 1]])
        assertClose(try XCTUnwrap(n.lastWeights), [0.5, 0.5], atol: 1e-9, rtol: 0, "normalised α")
        assertClose(dn, [0.5, 0.5], atol: 1e-9, rtol: 0, "d")
    }

    /// Identical gradients: 2α = α^−½, α = 2^(−2/3).
    func testAGBIdentical() throws {
        let (b, _) = try combine("agb", [[1, 0], [1, 0]], ["normalize": .bool(false)])
        let expected = Foundation.pow(2, -2.0 / 3)
        assertClose(try XCTUnwrap(b.lastWeights), [expected, expected], atol: 1e-6, rtol: 0, "α")
    }

    /// Opposite gradients have no fair point (the solve diverges symmetrically); AGB stays
    /// finite with equal weights, CAOB projects the auxiliary to zero and keeps the primary
    /// (in float32, as in training: in float64 the 1e-12 of the projection's denominator leaves
    /// a 1e-12 remainder, which AGB, faithfully, weighs up as an active task).
    func testOppositeGradients() throws {
        let (b, d) = try combine("agb", [[1, 0], [-1, 0]])
        let w = try XCTUnwrap(b.lastWeights)
        XCTAssertTrue(w.allSatisfy(\.isFinite) && d.allSatisfy(\.isFinite), "\(w) \(d)")
        assertClose(w[0], w[1], tol: 1e-6, "equal weights")
        let (c, dc) = try combine("caob", [[1, 0], [-1, 0]], dtype: .float32)
        XCTAssertEqual((c as? CAOB)?.lastProjected, [1])
        assertClose(try XCTUnwrap(c.lastWeights), [1, 0], atol: 1e-9, rtol: 0, "caob α")
        assertClose(dc, [1, 0], atol: 1e-9, rtol: 0, "caob d")
    }

    func testZeroGradientsNeverGiveNaN() throws {
        for name in ["pgp", "agb", "caob", "fairgrad", "nash-mtl", "mgda"] {
            for rows in [[[1.0, 2], [0, 0]], [[0.0, 0], [0, 3]], [[0.0, 0], [0, 0]], [[1.0, 0], [0, 1], [0, 0]]] {
                let (b, d) = try combine(name, rows)
                XCTAssertTrue(d.allSatisfy(\.isFinite), "\(name) \(rows): d = \(d)")
                XCTAssertTrue((b.lastWeights ?? []).allSatisfy(\.isFinite), "\(name) \(rows): α = \(String(describing: b.lastWeights))")
            }
        }
        // One active gradient gets α = 1, the zero one 0.
        let (b, _) = try combine("agb", [[1, 2], [0, 0]], ["normalize": .bool(false)])
        XCTAssertEqual(b.lastWeights, [1, 0])
        let (u, _) = try combine("agb", [[0, 0], [0, 0], [0, 0]], ["normalize": .bool(false)])
        assertClose(try XCTUnwrap(u.lastWeights), [1.0 / 3, 1.0 / 3, 1.0 / 3], atol: 1e-12, rtol: 0, "none active")
    }

    func testAnchorAndUnitGram() throws {
        let (a, _) = try combine("agb", [[2, 0], [0, 0.5]], ["normalize": .bool(false), "anchorPrimary": .bool(true)])
        XCTAssertEqual(a.lastWeights?[0], 1)
        // Unit Gram: the orthogonal pair becomes A = I (α = 1 each) and d sums the unit vectors.
        let (u, d) = try combine("agb", [[2, 0], [0, 0.5]], ["normalize": .bool(false), "useUnitGram": .bool(true)])
        assertClose(try XCTUnwrap(u.lastWeights), [1, 1], atol: 1e-6, rtol: 0, "α")
        assertClose(d, [1, 1], atol: 1e-6, rtol: 0, "d")
    }

    /// Nash-MTL on orthogonal gradients of norms 1 and 2: α_k = 1/‖g_k‖ (so αₖ²‖gₖ‖² = 1).
    func testNashMTLOrthogonal() throws {
        let (b, d) = try combine("nash-mtl", [[1, 0], [0, 2]])
        assertClose(try XCTUnwrap(b.lastWeights), [1, 0.5], atol: 1e-6, rtol: 0, "α")
        assertClose(d, [1, 1], atol: 1e-6, rtol: 0, "d")
        // FairGrad(a): αₖ = ‖gₖ‖^(−2a/(a+1)); a = 3: 2^(−1.5).
        let (f, _) = try combine("fairgrad", [[1, 0], [0, 2]], ["a": .number(3)])
        assertClose(try XCTUnwrap(f.lastWeights), [1, Foundation.pow(2, -1.5)], atol: 1e-6, rtol: 0, "fairgrad α")
    }

    /// Two gradients: γ = ⟨g₂ − g₁, g₂⟩/‖g₁ − g₂‖² clamped to [0, 1], d = γg₁ + (1−γ)g₂.
    func testMGDAClosedForm() throws {
        let (b, d) = try combine("mgda", [[1, 0], [0.5, 1]])
        assertClose(try XCTUnwrap(b.lastWeights), [0.6, 0.4], atol: 1e-9, rtol: 0, "α")
        assertClose(d, [0.8, 0.4], atol: 1e-9, rtol: 0, "d")
        let (c, dc) = try combine("mgda", [[1, 0], [2, 0]])
        assertClose(try XCTUnwrap(c.lastWeights), [1, 0], atol: 1e-9, rtol: 0, "clamped α")
        assertClose(dc, [1, 0], atol: 1e-9, rtol: 0, "clamped d")
        // Three: the min-norm point of conv{(1,0), (0,1), (1,1)} is (0.5, 0.5).
        let (_, d3) = try combine("mgda", [[1, 0], [0, 1], [1, 1]])
        assertClose(d3, [0.5, 0.5], atol: 1e-5, rtol: 0, "three")
    }

    func testOptionsAreChecked() throws {
        XCTAssertThrowsError(try BalancerRegistry.make("fairgrad", options: ["a": .number(0)])) {
            XCTAssertTrue("\($0)".contains("a"), "\($0)")
        }
        XCTAssertThrowsError(try BalancerRegistry.make("agb", options: ["anchor_primary": .bool(true)])) {
            XCTAssertTrue("\($0)".contains("anchor_primary"), "\($0)")
        }
        XCTAssertThrowsError(try BalancerRegistry.make("caob", options: ["slack": .string("x")]))
    }
}
