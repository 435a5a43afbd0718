import Foundation
import XCTest
@testable import Geometry
@testable import Metrics

/// ConDSeg's per-image metrics (threshold 0.5, 1e-15 smoothing) against the numpy reference of
/// scripts/fixtures/make_condseg_loss_fixtures.py.
final class SmoothedOverlapTests: XCTestCase {
    func testConDSegConventionsMatchNumpy() throws {
        let cases = try JSONSerialization.jsonObject(with: Data(contentsOf: Fixture.url("condseg_metrics", "json"))) as! [[String: Any]]
        XCTAssertEqual(cases.count, 4)
        var options = CaseMetricsOptions()
        options.condsegConventions = true
        options.topology = false
        for (i, c) in cases.enumerated() {
            let shape = c["shape"] as! [Int]
            let truth = try Grid(shape: shape, storage: (c["truth"] as! [Double]).map { $0 > 0.5 })
            let pred = try Grid(shape: shape, storage: (c["probability"] as! [Double]).map { $0 > 0.5 })
            let row = try CaseMetrics.evaluate(caseName: "c\(i)", label: 1, prediction: pred, truth: truth, options: options)
            for (name, value) in [("jaccard", row.iou), ("f1", row.dice), ("recall", row.recall), ("precision", row.precision),
                                  ("accuracy", row.accuracy), ("f2", row.f2)] {
                XCTAssertEqual(value, c[name] as! Double, accuracy: 1e-12, "case \(i) \(name)")
            }
        }
    }

    func testDefaultsKeepNaNForEmptyMasksAndAddAccuracyAndF2() throws {
        let empty = Grid<Bool>(shape: [4, 4], repeating: false)
        let row = try CaseMetrics.evaluate(caseName: "e", label: 1, prediction: empty, truth: empty)
        XCTAssertTrue(row.dice.isNaN && row.f2.isNaN)
        XCTAssertEqual(row.accuracy, 1)
        // F2 = 5·TP/(5·TP + 4·FN + FP): TP 1, FN 1, FP 2 → 5/11.
        var t = Grid<Bool>(shape: [2, 3], repeating: false), p = t
        t[0, 0] = true; t[0, 1] = true
        p[0, 0] = true; p[1, 1] = true; p[1, 2] = true
        let r = try CaseMetrics.evaluate(caseName: "f", label: 1, prediction: p, truth: t)
        XCTAssertEqual(r.f2, 5.0 / 11, accuracy: 1e-15)
        XCTAssertEqual(r.accuracy, 3.0 / 6, accuracy: 1e-15)
        XCTAssertEqual(try MetricCatalog.direction(of: "f2"), .higherIsBetter)
    }
}
