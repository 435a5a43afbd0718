import Foundation
import XCTest
@testable import Metrics

/// The statistics of `contour compare` against scipy.stats (scripts/fixtures/make_compare_fixtures.py).
/// Bootstrap intervals and rank frequencies are random; the fixture holds the resample indices scipy
/// drew, and the Swift code is fed those same resamples, so the comparison is exact.
final class CompareStatisticsTests: XCTestCase {
    func fixture() throws -> [String: Any] {
        let data = try Data(contentsOf: try Fixture.url("compare_statistics", "json"))
        return try JSONSerialization.jsonObject(with: data) as! [String: Any]
    }

    func testWilcoxonMatchesScipy() throws {
        let cases = try fixture()["wilcoxon"] as! [[String: Any]]
        XCTAssertGreaterThan(cases.count, 10)
        for c in cases {
            let name = c["name"] as! String
            let x = c["x"] as! [Double], y = c["y"] as! [Double]
            let t = try WilcoxonSignedRank(x, y)
            XCTAssertEqual(t.pairs, c["pairs"] as! Int, name)
            XCTAssertEqual(t.zeros, c["zeros"] as! Int, name)
            XCTAssertEqual(t.rankSumPositive, c["rank_sum_positive"] as! Double, accuracy: 1e-9, name)
            XCTAssertEqual(t.rankSumNegative, c["rank_sum_negative"] as! Double, accuracy: 1e-9, name)
            XCTAssertEqual(t.medianDifference, c["median_difference"] as! Double, accuracy: 1e-12, name)
            if let r = c["rank_biserial"] as? Double { XCTAssertEqual(t.rankBiserial, r, accuracy: 1e-12, name) } else { XCTAssertTrue(t.rankBiserial.isNaN, name) }
            switch c["method"] as! String {
            case "exact":
                XCTAssertEqual(t.method, .exact, name)
                XCTAssertEqual(t.pValue!, c["pvalue"] as! Double, accuracy: 1e-10, name)
                XCTAssertEqual(t.statistic, c["statistic"] as! Double, accuracy: 1e-9, name)
            case "asymptotic":
                XCTAssertEqual(t.method, .normal, name)
                XCTAssertEqual(t.pValue!, c["pvalue"] as! Double, accuracy: 1e-6, name)
                XCTAssertEqual(t.statistic, c["statistic"] as! Double, accuracy: 1e-9, name)
            default:
                XCTAssertEqual(t.method, .notApplicable, name)
                XCTAssertNil(t.pValue, name)
            }
        }
    }

    func testWilcoxonRejectsUnpairedAndNonFinite() {
        XCTAssertThrowsError(try WilcoxonSignedRank([1, 2], [1])) { XCTAssertTrue("\($0)".contains("paired")) }
        XCTAssertThrowsError(try WilcoxonSignedRank(differences: [1, .infinity, 2, 3, 4, 5])) { XCTAssertTrue("\($0)".contains("infinite")) }
        // NaN pairs are left out before counting.
        let t = try? WilcoxonSignedRank([1, 2, 3, 4, 5, .nan, 7], [0, 0, 0, 0, 0, 0, 0])
        XCTAssertEqual(t?.pairs, 6)
    }

    func testHolmMatchesStepDownRule() throws {
        for c in try fixture()["holm"] as! [[String: Any]] {
            let p = c["p"] as! [Double], expected = c["adjusted"] as! [Double]
            let adjusted = HolmCorrection.adjust(p.map { Optional($0) })
            for (a, e) in zip(adjusted, expected) { XCTAssertEqual(a!, e, accuracy: 1e-15) }
        }
        // Tests that are not applicable are outside the family.
        let mixed = HolmCorrection.adjust([0.01, nil, 0.04])
        XCTAssertNil(mixed[1])
        XCTAssertEqual(mixed[0]!, 0.02, accuracy: 1e-15)
        XCTAssertEqual(mixed[2]!, 0.04, accuracy: 1e-15)
    }

    func testBootstrapIntervalWithScipysResamples() throws {
        for c in try fixture()["bootstrap"] as! [[String: Any]] {
            let values = c["values"] as! [Double], resamples = c["resamples"] as! [[Int]]
            let ci = Bootstrap.percentileInterval(values, resamples: resamples, confidence: c["confidence"] as! Double)
            XCTAssertEqual(ci.lower, c["low"] as! Double, accuracy: 1e-12)
            XCTAssertEqual(ci.upper, c["high"] as! Double, accuracy: 1e-12)
        }
    }

    func testSeededBootstrapIsReproducibleAndCoversTheMean() throws {
        let values = (try fixture()["bootstrap"] as! [[String: Any]])[0]["values"] as! [Double]
        let a = Bootstrap.percentileInterval(values, seed: 3), b = Bootstrap.percentileInterval(values, seed: 3)
        XCTAssertEqual(a, b)
        let m = Descriptive.mean(values), se = Descriptive.standardDeviation(values) / Double(values.count).squareRoot()
        XCTAssertLessThan(a.lower, m)
        XCTAssertGreaterThan(a.upper, m)
        // 10 000 resamples of a mean: the interval is close to mean ± 1.96 · SE (within 25 %).
        XCTAssertEqual((a.upper - a.lower) / (2 * 1.96 * se), 1, accuracy: 0.25)
        XCTAssertNotEqual(Bootstrap.percentileInterval(values, seed: 4), a)
    }

    func testRankStabilityMatchesScipyRanks() throws {
        for c in try fixture()["rank_stability"] as! [[String: Any]] {
            let direction: MetricDirection = c["direction"] as! String == "higher" ? .higherIsBetter : .lowerIsBetter
            let f = RankStability.frequencies(c["values"] as! [[Double]], direction: direction, resamples: c["resamples"] as! [[Int]])
            let expected = c["frequencies"] as! [[Double]]
            for (row, e) in zip(f, expected) { for (a, b) in zip(row, e) { XCTAssertEqual(a, b, accuracy: 1e-12) } }
        }
        XCTAssertEqual(RankStability.ranks([0.5, 0.7, 0.7, .nan], direction: .higherIsBetter), [3, 1, 1, 4])
    }

    func testDescriptiveMatchesNumpy() throws {
        let d = try fixture()["descriptive"] as! [String: Any]
        let v = d["values"] as! [Double]
        XCTAssertEqual(Descriptive.mean(v), d["mean"] as! Double, accuracy: 1e-12)
        XCTAssertEqual(Descriptive.standardDeviation(v), d["sd"] as! Double, accuracy: 1e-12)
        XCTAssertEqual(Descriptive.median(v), d["median"] as! Double, accuracy: 1e-12)
        for (q, e) in d["quantiles"] as! [String: Double] { XCTAssertEqual(Descriptive.quantile(v, Double(q)!), e, accuracy: 1e-12, q) }
    }
}
