import XCTest
import Geometry
@testable import Metrics

/// Metrics against scipy/skimage readings of METHODS §7 (cross-checked with MONAI by the generator).
final class MetricsFixtureTests: XCTestCase {
    func testPairsMatchReference() throws {
        let all = try Fixture.expected()["pairs"] as! [String: [String: Any]]
        XCTAssertEqual(all.count, 3)
        for (name, e) in all {
            let spacing = e["spacing"] as! [Double]
            let a = try Fixture.mask(name + "_pred", spacing: spacing), g = try Fixture.mask(name + "_truth", spacing: spacing)
            func check(_ value: Double, _ key: String, _ tol: Double = 1e-5) {
                XCTAssertEqual(value, e[key] as! Double, accuracy: tol, "\(name) \(key)")
            }
            let c = try ConfusionCounts(prediction: a, truth: g)
            check(c.dice(), "dice"); check(c.iou(), "iou")
            check(c.precision, "precision"); check(c.recall, "recall"); check(c.specificity, "specificity")
            let sd = try SurfaceDistances(prediction: a, truth: g)
            check(sd.hausdorff, "hd")
            check(sd.hausdorff(percentile: 95), "hd95_monai", 1e-4)
            check(sd.hausdorff(percentile: 95, convention: .pooled), "hd95_pooled", 1e-4)
            check(sd.averageSymmetric(), "assd_pooled")
            check(sd.averageSymmetric(convention: .meanOfMeans), "assd_mean_of_means")
            check(sd.surfaceDice(tolerance: 1), "nsd_1")
            let bfDefault = e["bf_default"] as! [Double], bf2 = e["bf_2"] as! [Double]
            let f = try BoundaryFScore(prediction: a, truth: g)
            XCTAssertEqual([f.precision, f.recall, f.f1], bfDefault, accuracy: 1e-5, name)
            let f2 = try BoundaryFScore(prediction: a, truth: g, tolerance: 2)
            XCTAssertEqual([f2.precision, f2.recall, f2.f1], bf2, accuracy: 1e-5, name)
            let bp = e["betti_pred"] as! [Int], bt = e["betti_truth"] as! [Int]
            let be = try BettiErrors(prediction: a, truth: g)
            XCTAssertEqual(be.prediction, BettiNumbers(b0: bp[0], b1: bp[1], b2: bp[2]), name)
            XCTAssertEqual(be.truth, BettiNumbers(b0: bt[0], b1: bt[1], b2: bt[2]), name)
            XCTAssertEqual(be.b1, abs(bp[1] - bt[1]))
            check(try ClDiceScore(prediction: a, truth: g).clDice, "cldice")
        }
    }

    func testRoundnessMatchesSkimage() throws {
        let e = try Fixture.expected()["roundness"] as! [String: Any]
        let m = try Fixture.mask("roundness_mask")
        XCTAssertEqual(try Roundness.perimeter(m), e["perimeter"] as! Double, accuracy: 1e-9)
        XCTAssertEqual(try Roundness.instanceCircularities(m), e["instances"] as! [Double], accuracy: 1e-9)
    }

    func testCaseRowsMatchReference() throws {
        let rowsExpected = try Fixture.expected()["case_rows"] as! [[String: Any]]
        let p = try Fixture.ints("case_pred"), t = try Fixture.ints("case_truth")
        let rows = try CaseMetrics.evaluate(caseName: "case_a", prediction: p, truth: t)
        XCTAssertEqual(rows.map(\.label), [1, 2])
        for (row, e) in zip(rows, rowsExpected) {
            XCTAssertEqual(row.label, e["label"] as! Int)
            for (name, keyPath) in CaseMetricsRow.columns {
                guard let v = e[name] else { continue }
                let expected = (v as? Double) ?? Double(v as! Int)
                XCTAssertEqual(row[keyPath: keyPath], expected, accuracy: name == "hd95" ? 1e-4 : 1e-5, "label \(row.label) \(name)")
            }
        }
    }
}

func XCTAssertEqual(_ a: [Double], _ b: [Double], accuracy: Double, _ message: String = "",
                    file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(a.count, b.count, message, file: file, line: line)
    for (x, y) in zip(a, b) { XCTAssertEqual(x, y, accuracy: accuracy, message, file: file, line: line) }
}
