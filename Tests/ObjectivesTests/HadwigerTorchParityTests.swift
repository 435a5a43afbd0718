import Foundation
import XCTest
import Torch
@testable import Objectives

/// Hadwiger maps, losses and d loss / d logits against the PyTorch (autograd) reference of
/// scripts/fixtures/make_hadwiger_torch_fixtures.py: odd and even δ, objects on the border and in
/// the corner, empty and full truth, sigmoid and softmax, non-default τ/σ/ε, no blur, and 3D.
final class HadwigerTorchParityTests: XCTestCase {
    private static let cases = ["odd", "even", "defaults", "empty", "full", "corner", "multiclass", "options", "noblur",
                                "volume", "volume_multiclass"]

    private func load(_ name: String) throws -> Tensor? {
        guard let url = Bundle.module.url(forResource: name, withExtension: "npy", subdirectory: "Fixtures/hadwiger_torch") else {
            return nil
        }
        return try Tensor.loadNPY(url.path)
    }

    private func need(_ name: String) throws -> Tensor {
        guard let t = try load(name) else {
            throw ObjectiveError("missing fixture hadwiger_torch/\(name).npy (scripts/fixtures/make_hadwiger_torch_fixtures.py)")
        }
        return t
    }

    private struct Case {
        var logits: Tensor, target: LossTarget, labels: Tensor, deltas: [Int], tau: Double, sigma: Double, eps: Double
    }

    private func load(case name: String) throws -> Case {
        let s = try need("\(name)_settings").doubles()
        let labels = try need("\(name)_labels").to(.int64)
        return Case(logits: try need("\(name)_logits"), target: try LossTarget(labels: labels), labels: labels,
                    deltas: try need("\(name)_deltas").doubles().map { Int($0) }, tau: s[0], sigma: s[1], eps: s[2])
    }

    /// The options a configuration would give for `term`.
    private func options(_ term: HadwigerLoss.Term, _ c: Case) -> [String: OptionValue] {
        var o: [String: OptionValue] = ["deltas": .array(c.deltas.map { .number(Double($0)) })]
        if term == .perimeter { o["tau"] = .number(c.tau); o["sigma"] = .number(c.sigma) }
        if term != .area { o["eps"] = .number(c.eps) }
        return o
    }

    func testLossesAndGradientsMatchAutograd() throws {
        for name in Self.cases {
            let c = try load(case: name)
            let expected = try need("\(name)_loss").doubles()
            for (i, term) in HadwigerLoss.Term.allCases.enumerated() {
                let loss = try ObjectiveRegistry.make("hadwiger-\(term.rawValue)", options: options(term, c))
                let (value, grad) = try lossAndGradient(loss, logits: c.logits, target: c.target)
                assertClose(value, expected[i], tol: 1e-5 * Swift.max(1, Swift.abs(expected[i])), "\(name) \(term) loss")
                try assertClose(grad, need("\(name)_grad_\(term.rawValue)"), atol: 1e-8, rtol: 1e-5, "\(name) \(term) gradient")
            }
        }
    }

    func testMapsMatchPyTorch() throws {
        for name in Self.cases {
            let c = try load(case: name)
            let maps = try HadwigerMaps(tau: c.tau, sigma: c.sigma, eps: c.eps)
            let channels = c.logits.shape[1]
            let p = channels == 1 ? try c.logits.sigmoid() : try c.logits.softmax(dim: 1).droppingFirstChannel()
            let y = channels == 1 ? try c.labels.to(.float64) : try c.target.denseTarget(for: c.logits).droppingFirstChannel()
            for term in HadwigerLoss.Term.allCases {
                let loss = try HadwigerLoss(term, deltas: c.deltas, maps: maps)
                for d in c.deltas {
                    guard let expected = try load("\(name)_\(term.rawValue)_\(d)") else { continue }
                    try assertClose(loss.map(p, delta: d), expected, atol: 1e-10, rtol: 1e-5, "\(name) \(term) δ=\(d)")
                    try assertClose(loss.map(y, delta: d), need("\(name)_\(term.rawValue)_\(d)_truth"), atol: 1e-10, rtol: 1e-5,
                                    "\(name) \(term) δ=\(d) truth")
                }
            }
        }
    }
}
