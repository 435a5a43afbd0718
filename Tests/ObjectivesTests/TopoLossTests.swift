import Foundation
import XCTest
import Torch
@testable import Objectives

/// `topoloss` against the NumPy/GUDHI reference of scripts/fixtures/make_topoloss_fixtures.py
/// (loss, d loss/d logits, and the W/R maps) and hand-computed cases.
final class TopoLossTests: XCTestCase {
    struct Case: Decodable {
        var name: String
        var patchSize: Int
        var threshold: Double
        var lambda: Double
        var loss: Double
        var ce: Double
        var critical: Int
    }

    func cases() throws -> [Case] {
        try JSONDecoder().decode([Case].self, from: Data(contentsOf: fixtureURL("topoloss_cases", "json")))
    }

    func options(_ c: Case) -> String {
        #"{"patchSize": \#(c.patchSize), "threshold": \#(c.threshold), "lambda": \#(c.lambda)}"#
    }

    func testLossAndGradientMatchTheReference() throws {
        let all = try cases()
        XCTAssertEqual(all.count, 4)
        for c in all {
            let objective = try ObjectiveRegistry.make("topoloss", json: options(c))
            let target = try LossTarget(labels: fixture("topoloss_\(c.name)_labels"))
            let (value, grad) = try lossAndGradient(objective, logits: fixture("topoloss_\(c.name)_logits"), target: target)
            assertClose(value, c.loss, tol: 1e-10, "\(c.name) loss")
            try assertClose(grad, fixture("topoloss_\(c.name)_grad"), atol: 1e-10, rtol: 1e-5, "\(c.name) gradient")
            XCTAssertGreaterThan(c.loss - c.ce, 1e-3, "\(c.name): the fixture should exercise the term")
        }
    }

    func testCriticalMapsMatchTheReference() throws {
        for c in try cases() {
            let loss = try TopoLoss(options: ObjectiveOptions(json: options(c), for: "topoloss"))
            let logits = try fixture("topoloss_\(c.name)_logits")
            let p = logits.shape[1] == 1 ? try logits.sigmoid() : try logits.softmax(dim: 1).droppingFirstChannel()
            let target = try LossTarget(labels: fixture("topoloss_\(c.name)_labels"))
            let (w, r) = try loss.criticalMaps(foreground: p, logits: logits, target: target)
            XCTAssertEqual(w, try fixture("topoloss_\(c.name)_weight").doubles(), "\(c.name) W")
            XCTAssertEqual(Int(w.reduce(0, +)), c.critical, c.name)
            assertClose(r, try fixture("topoloss_\(c.name)_ref").doubles(), atol: 1e-12, rtol: 0, "\(c.name) R")
        }
    }

    /// The two basins of f = 1 − p of CubicalPersistenceTests.testTwoBasinsByHand, as one sigmoid channel:
    /// p = 0.05 around, and 0.9 0.3 0.4 0.5 0.7 along the middle row. The finite bar (0.3, 0.7) of f
    /// is born at pixel 9 (p = 0.7) and dies at pixel 6 (p = 0.3).
    func twoBasins() throws -> Tensor {
        var p = [Double](repeating: 0.05, count: 15)
        for (x, v) in [0.9, 0.3, 0.4, 0.5, 0.7].enumerated() { p[5 + x] = v }
        return try tensor(p.map { Foundation.log($0 / (1 - $0)) }, [1, 1, 3, 5])
    }

    func testTwoBasinsByHand() throws {
        let logits = try twoBasins()
        let loss = try TopoLoss(options: ObjectiveOptions([:], for: "topoloss"))
        // GT with one component (or none): the bar is unmatched, persistence 0.4 > 0.03, so both
        // critical pixels go to the diagonal, f = (0.3 + 0.7)/2, i.e. p = 0.5.
        for gt: [Int64] in [[0, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0], Array(repeating: 0, count: 15)] {
            let term = try loss.topologicalTerm(logits: logits, target: labels(gt, [1, 1, 3, 5])).item()
            assertClose(term, ((0.7 - 0.5) * (0.7 - 0.5) + (0.3 - 0.5) * (0.3 - 0.5)) / 15, tol: 1e-14, "unmatched")
        }
        // Two GT components: the bar is matched, birth (p = 0.7) → 1 and death (p = 0.3) → 0.
        let two: [Int64] = [0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0]
        let matched = try loss.topologicalTerm(logits: logits, target: labels(two, [1, 1, 3, 5])).item()
        assertClose(matched, (0.3 * 0.3 + 0.3 * 0.3) / 15, tol: 1e-14, "matched")
        // Above the threshold nothing is pushed.
        let high = try TopoLoss(options: ObjectiveOptions(["threshold": .number(0.5)], for: "topoloss"))
        XCTAssertEqual(try high.topologicalTerm(logits: logits, target: labels(Array(repeating: 0, count: 15), [1, 1, 3, 5])).item(), 0)
        // d term / d p = 2(p − R)/15 at the two pixels, times σ' = p(1 − p).
        let x = try logits.clone().requiringGrad()
        let g = try gradients(of: loss.topologicalTerm(logits: x, target: labels(two, [1, 1, 3, 5])), with: [x])[0]!.doubles()
        var expected = [Double](repeating: 0, count: 15)
        expected[9] = 2 * (0.7 - 1) / 15 * 0.7 * 0.3
        expected[6] = 2 * (0.3 - 0) / 15 * 0.3 * 0.7
        assertClose(g, expected, atol: 1e-14, rtol: 1e-9, "gradient")
    }

    func testTheTermStartsAtStartFraction() throws {
        let c = try cases()[0]
        let logits = try fixture("topoloss_\(c.name)_logits")
        var target = try LossTarget(labels: fixture("topoloss_\(c.name)_labels"))
        let ce = try lossValue("ce", "{}", logits, target)
        assertClose(ce, c.ce, tol: 1e-12, "ce")
        for (progress, expected) in [(0.0, c.ce), (0.69, c.ce), (0.7, c.loss), (1.0, c.loss)] {
            target.trainingProgress = progress
            assertClose(try lossValue("topoloss", options(c), logits, target), expected, tol: 1e-10, "progress \(progress)")
        }
        target.trainingProgress = 0.2
        assertClose(try lossValue("topoloss", #"{"startFraction": 0.1, "lambda": \#(c.lambda), "patchSize": \#(c.patchSize)}"#,
                                  logits, target), c.loss, tol: 1e-10, "startFraction 0.1")
        target.trainingProgress = nil  // no schedule: always on
        assertClose(try lossValue("topoloss", options(c), logits, target), c.loss, tol: 1e-10, "no progress")
    }

    func testIgnoredLabelsAreOutsideEveryClass() throws {
        // A 2-channel copy of the two basins (channel 0 logits 0): ignored pixels do not join
        // the GT components, so 1 | 255 | 1 along the row is two components and the bar is matched.
        let logits = try Tensor.cat([Tensor.zeros([1, 1, 3, 5], dtype: .float64), twoBasins()], dim: 1)
        let gt: [Int64] = [0, 0, 0, 0, 0, 1, 255, 255, 255, 1, 0, 0, 0, 0, 0]
        XCTAssertThrowsError(try lossValue("topoloss", "{}", logits, labels(gt, [1, 1, 3, 5])))
        let loss = try TopoLoss(options: ObjectiveOptions(["ignoreIndex": .number(255)], for: "topoloss"))
        let term = try loss.topologicalTerm(logits: logits, target: labels(gt, [1, 1, 3, 5])).item()
        // softmax([0, z]) = sigmoid(z): the same probabilities as the sigmoid case.
        assertClose(term, (0.3 * 0.3 + 0.3 * 0.3) / 15, tol: 1e-14, "matched")
    }

    func testThreeDIsAnError() throws {
        let logits = try Tensor.zeros([1, 2, 3, 4, 4], dtype: .float64)
        let target = try LossTarget(labels: Tensor.zeros([1, 1, 3, 4, 4], dtype: .int64))
        XCTAssertThrowsError(try lossValue("topoloss", "{}", logits, target)) {
            XCTAssertTrue("\($0)".contains("'topoloss'") && "\($0)".contains("2D"), "\($0)")
        }
    }

    func testBadOptionsNameTheOption() throws {
        for (json, option) in [(#"{"lambda": -1}"#, "'lambda'"), (#"{"patchSize": 1}"#, "'patchSize'"),
                               (#"{"patchSize": 2.5}"#, "'patchSize'"), (#"{"threshold": -0.1}"#, "'threshold'"),
                               (#"{"startFraction": 1.5}"#, "'startFraction'"), (#"{"reduction": "none"}"#, "'reduction'"),
                               (#"{"lamda": 1}"#, "'lamda'")] {
            XCTAssertThrowsError(try ObjectiveRegistry.make("topoloss", json: json), json) {
                XCTAssertTrue("\($0)".contains(option), "\(json): \($0)")
            }
        }
        XCTAssertNoThrow(try ObjectiveRegistry.make("topoloss", json: #"{"lambda": 0, "patchSize": 2, "weight": [1, 2]}"#))
    }
}
