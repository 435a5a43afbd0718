import ArgumentParser
@testable import ContourCLI
import Foundation
import XCTest

/// The shared method of every `contour bench …`: its bootstrap interval against numpy's
/// percentile bootstrap on the same resamples (scripts/fixtures/make_bench_fixtures.py), the
/// interleaving order, and the JSON schema every bench prints. No timing is asserted.
final class BenchMethodTests: XCTestCase {
    let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/bench_bootstrap.json")

    func testBootstrapIntervalMatchesNumpyOnTheSameResamples() throws {
        let root = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: fixture)) as? [String: Any])
        let cases = try XCTUnwrap(root["cases"] as? [[String: Any]])
        XCTAssertEqual(cases.count, 2)
        let method = try BenchMethod()
        for c in cases {
            let name = c["name"] as? String ?? "?"
            let contour = try XCTUnwrap(c["contour_ms"] as? [Double]), reference = try XCTUnwrap(c["reference_ms"] as? [Double])
            let resamples = try XCTUnwrap(c["resamples"] as? [[Int]])
            let r = method.ratio(contour, reference, resamples: resamples)
            XCTAssertEqual(r.ratio, try XCTUnwrap(c["ratio"] as? Double), accuracy: 1e-12, name)
            XCTAssertEqual(r.low, try XCTUnwrap(c["ci_low"] as? Double), accuracy: 1e-12, name)
            XCTAssertEqual(r.high, try XCTUnwrap(c["ci_high"] as? Double), accuracy: 1e-12, name)
            // The seeded path: reproducible, and its interval holds the median.
            let a = method.ratio(contour, reference), b = method.ratio(contour, reference)
            XCTAssertEqual(a.low, b.low)
            XCTAssertEqual(a.high, b.high)
            XCTAssertLessThanOrEqual(a.low, a.ratio)
            XCTAssertGreaterThanOrEqual(a.high, a.ratio)
        }
    }

    func testRecordFlagsWideIntervals() throws {
        let method = try BenchMethod()
        let quiet = method.record(bench: "t", name: "quiet", size: "1", contour: [90, 91, 90, 89, 90, 91, 90, 90, 89, 91],
                                  reference: [Double](repeating: 100, count: 10), referenceName: "r", threads: 2)
        XCTAssertEqual(try XCTUnwrap(quiet.ratio), 0.9, accuracy: 1e-12)
        XCTAssertFalse(quiet.intervalIsWide)
        let noisy = method.record(bench: "t", name: "noisy", size: "1", contour: [50, 150, 90, 120, 60, 140, 80, 100, 70, 130],
                                  reference: [Double](repeating: 100, count: 10), referenceName: "r", threads: 2)
        XCTAssertTrue(noisy.intervalIsWide)
        XCTAssertTrue(BenchRecord.table([quiet, noisy]).contains("wider than ±5 % for noisy"))
        XCTAssertFalse(BenchRecord.table([quiet]).contains("wider than"))
    }

    /// Every round runs every arm exactly once, in a seeded random order; warm-up rounds come
    /// first and are not kept; both orders occur.
    func testInterleavingOrder() throws {
        let order = BenchMethod.order(arms: 2, rounds: 40, seed: 5)
        XCTAssertEqual(order.count, 40)
        for round in order { XCTAssertEqual(round.sorted(), [0, 1]) }
        XCTAssertTrue(order.contains([0, 1]) && order.contains([1, 0]))
        XCTAssertEqual(order, BenchMethod.order(arms: 2, rounds: 40, seed: 5))
        XCTAssertNotEqual(order, BenchMethod.order(arms: 2, rounds: 40, seed: 6))
        for round in BenchMethod.order(arms: 5, rounds: 10, seed: 1) { XCTAssertEqual(round.sorted(), [0, 1, 2, 3, 4]) }

        let method = try BenchMethod(warmup: 2, rounds: 10, seed: 9)
        var calls: [Int] = []
        var counter = [0.0, 0.0, 0.0]
        let arms: [() throws -> Double] = (0..<3).map { k in {
            calls.append(k)
            counter[k] += 1
            return counter[k]  // the call's index per arm: 1, 2, …
        } }
        let samples = try method.run(arms)
        XCTAssertEqual(calls, BenchMethod.order(arms: 3, rounds: 12, seed: 9).flatMap { $0 })
        for k in 0..<3 { XCTAssertEqual(samples[k], (3...12).map(Double.init), "warm-up calls 1, 2 dropped") }
        XCTAssertThrowsError(try BenchMethod(rounds: 1)) { XCTAssertTrue("\($0)".contains("--rounds 1")) }
    }

    /// One schema for every bench: every key present in every row, null when missing.
    func testJSONSchema() throws {
        let method = try BenchMethod()
        let full = method.record(bench: "geometry", name: "edt2d", size: "512x512", contour: [1, 2, 3], reference: [2, 4, 6],
                                 referenceName: "scipy", threads: 2, agree: true)
        let alone = method.record(bench: "geometry", name: "edt3d", size: "96x96x96", contour: [1, 2], reference: nil,
                                  referenceName: "scipy", threads: 2, note: "no reference: make bench-venv")
        let json = try BenchRecord.json([full, alone])
        let rows = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [[String: Any]])
        XCTAssertEqual(rows.count, 2)
        let required = ["name", "size", "contour_ms", "reference_ms", "ratio", "ci_low", "ci_high", "rounds", "threads", "reference"]
        for row in rows {
            XCTAssertEqual(Set(row.keys), Set(BenchRecord.keys))
            XCTAssertTrue(Set(required).isSubset(of: Set(row.keys)))
        }
        XCTAssertEqual(rows[0]["ratio"] as? Double, 0.5)
        XCTAssertEqual(rows[0]["rounds"] as? Int, 3)
        XCTAssertEqual(rows[0]["agree"] as? Bool, true)
        XCTAssertTrue(rows[1]["ratio"] is NSNull)
        XCTAssertTrue(rows[1]["reference_ms"] is NSNull)
        XCTAssertTrue(rows[1]["agree"] is NSNull)
        XCTAssertEqual(rows[1]["note"] as? String, "no reference: make bench-venv")
        let decoded = try JSONDecoder().decode([BenchRecord].self, from: Data(json.utf8))
        XCTAssertEqual(decoded, [full, alone])
    }

    /// `bench all --readme` replaces only its own section.
    func testReadmeSectionIsReplacedInPlace() throws {
        let path = NSTemporaryDirectory() + "bench-readme-\(getpid()).md"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try "# Title\n\nbefore\n".write(toFile: path, atomically: true, encoding: .utf8)
        let rec = try BenchMethod().record(bench: "engine", name: "step", size: "b", contour: [1, 1], reference: [2, 2],
                                           referenceName: "PyTorch", threads: 2)
        var report = BenchAll.Report(command: "contour bench all", machine: "m", cpus: 2, load: "l", date: "d", commit: "c", records: [rec])
        try BenchAll.write(report, into: path)
        report.commit = "c2"
        try BenchAll.write(report, into: path)
        let text = try String(contentsOfFile: path, encoding: .utf8)
        XCTAssertTrue(text.hasPrefix("# Title\n\nbefore\n"))
        XCTAssertEqual(text.components(separatedBy: BenchAll.begin).count, 2)
        XCTAssertTrue(text.contains("Commit: `c2`"))
        XCTAssertFalse(text.contains("Commit: `c`."))
        XCTAssertTrue(text.contains("| step | b | 1.000 | 2.000 | 0.500 |"))
        XCTAssertTrue(text.contains("(small `--quick` sizes;"))
        report.full = ["geometry"]
        XCTAssertTrue(BenchAll.markdown(report).contains("(full sizes for geometry, small `--quick` sizes for the others;"))
    }

    /// `--only` and `--full` name benches; an unknown one is an error naming the option.
    func testBenchAllRefusesUnknownBenches() throws {
        XCTAssertEqual(try BenchAll.benchList("geometry, data", option: "--full"), ["geometry", "data"])
        XCTAssertNil(try BenchAll.benchList(nil, option: "--full"))
        XCTAssertThrowsError(try BenchAll.benchList("geometry,edt", option: "--full")) { error in
            XCTAssertTrue("\(error)".contains("--full: unknown bench 'edt'"), "\(error)")
        }
    }
}
