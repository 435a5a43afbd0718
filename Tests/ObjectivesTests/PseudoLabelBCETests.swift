import Foundation
import XCTest
import NeuralNet
import Torch
@testable import Objectives

/// L_sam against PyTorch's BCE(σ(x), T) on the (sample, class) pairs with pseudo masks
/// (scripts/fixtures/make_pseudolabel_fixtures.py); sample 1 has no pseudo labels.
final class PseudoLabelBCETests: XCTestCase {
    func fixture(_ name: String) throws -> Tensor {
        guard let url = Bundle.module.url(forResource: name, withExtension: "npy", subdirectory: "Fixtures/pseudo") else {
            throw ObjectiveError("missing fixture pseudo/\(name).npy (scripts/fixtures/make_pseudolabel_fixtures.py)")
        }
        return try Tensor.loadNPY(url.path)
    }

    func heads(_ logits: Tensor) -> Heads {
        var h = Heads()
        h.set(Heads.segmentation, levels: [logits])
        return h
    }

    func testValueAndGradientMatchPyTorch() throws {
        let logits = try fixture("logits").to(.float64).clone().requiringGrad()
        let pseudo = try fixture("pseudo")
        var targets = Targets(labels: nil, annotatedLabels: [[], [], []], foregroundClasses: [1, 2, 3])
        targets.pseudoLabels = pseudo
        targets.pseudoClasses = [[1, 3], [], [2]]
        let objective = try ObjectiveRegistry.make("sam")
        XCTAssertEqual(objective.needs, [.pseudoLabels])
        let loss = try objective.loss(heads: heads(logits), targets: targets)
        try assertClose(try loss.reshape([1]), try fixture("loss"), atol: 1e-12, rtol: 1e-10, "L_sam")
        let g = try gradients(of: loss, with: [logits])[0]!
        try assertClose(g, try fixture("grad"), atol: 1e-12, rtol: 1e-9, "dL_sam/dlogits")
        // Sample 1 (no pseudo labels) and channel 0 receive no gradient.
        XCTAssertEqual(try g.select(dim: 0, index: 1).abs().sum().item(), 0)
    }

    func testNoPseudoLabelsGiveZeroWithAGraph() throws {
        let logits = try Tensor.ones([2, 3, 4, 4]).requiringGrad()
        let targets = Targets(labels: nil, annotatedLabels: [[], []], foregroundClasses: [1, 2])
        let loss = try PseudoLabelBCE().loss(heads: heads(logits), targets: targets)
        XCTAssertEqual(try loss.item(), 0)
        XCTAssertTrue(loss.requiresGrad)
    }

    func testClassOutsideTheHeadIsAnError() throws {
        let logits = try Tensor.zeros([1, 2, 4, 4])
        let pseudo = try Tensor.zeros([1, 1, 4, 4], dtype: .int64)
        XCTAssertThrowsError(try PseudoLabelBCE().value(logits: logits, pseudoLabels: pseudo, classes: [[5]])) { e in
            XCTAssertTrue("\(e)".contains("class 5") && "\(e)".contains("2 channels"), "\(e)")
        }
        XCTAssertThrowsError(try PseudoLabelBCE().value(logits: logits, pseudoLabels: try Tensor.zeros([1, 1, 3, 4], dtype: .int64), classes: [[1]]))
        XCTAssertThrowsError(try ObjectiveRegistry.make("sam", options: ["weight": .number(2)]))
    }
}
