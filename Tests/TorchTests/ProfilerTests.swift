import Foundation
import XCTest
@testable import Torch

/// libtorch's profiler through the shim, and the self/total times read back from a trace.
final class ProfilerTests: XCTestCase {
    func testRecordWritesATraceOfTheOpsRun() throws {
        let path = NSTemporaryDirectory() + "contour-profile-\(getpid()).json"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let a = try Tensor.ones([64, 64]), b = try Tensor.ones([64, 64])
        let c = try Profiler.record(to: path) { try a.matmul(b).sum() }
        XCTAssertEqual(try c.item(), 64 * 64 * 64)
        let rows = Dictionary(uniqueKeysWithValues: try ProfileSummary(tracePath: path).rows.map { ($0.name, $0) })
        XCTAssertGreaterThanOrEqual(rows["aten::matmul"]?.calls ?? 0, 1, "\(rows.keys.sorted())")
        XCTAssertGreaterThanOrEqual(rows["aten::sum"]?.calls ?? 0, 1, "\(rows.keys.sorted())")
        // A second recording starts cleanly after the first stopped, also when the body throws.
        XCTAssertThrowsError(try Profiler.record(to: path) { throw TorchError("body failed") }) { XCTAssertEqual("\($0)", "body failed") }
        _ = try Profiler.record(to: path) { try a + b }
        XCTAssertNotNil(try ProfileSummary(tracePath: path).rows.first { $0.name == "aten::add" })
    }

    /// Nesting from times: A [0, 100) calls B [10, 40) which calls C [20, 30); D [50, 60) is A's
    /// child too; another thread's A [0, 5) is separate; non-op categories and instants are ignored.
    func testSelfTimeSubtractsNestedOpsPerThread() {
        func x(_ name: String, _ ts: Double, _ dur: Double, tid: Int = 1, cat: String = "cpu_op") -> [String: Any] {
            ["ph": "X", "cat": cat, "name": name, "ts": ts, "dur": dur, "pid": 7, "tid": tid]
        }
        let s = ProfileSummary(events: [x("C", 20, 10), x("A", 0, 100), x("B", 10, 30), x("D", 50, 10), x("A", 0, 5, tid: 2),
                                        x("kernel", 0, 1000, cat: "kernel"), ["ph": "i", "cat": "cpu_op", "name": "E", "ts": 1]])
        let rows = Dictionary(uniqueKeysWithValues: s.rows.map { ($0.name, $0) })
        XCTAssertEqual(rows["A"], .init(name: "A", calls: 2, selfMicroseconds: 60 + 5, totalMicroseconds: 105))
        XCTAssertEqual(rows["B"], .init(name: "B", calls: 1, selfMicroseconds: 20, totalMicroseconds: 30))
        XCTAssertEqual(rows["C"], .init(name: "C", calls: 1, selfMicroseconds: 10, totalMicroseconds: 10))
        XCTAssertEqual(rows["D"], .init(name: "D", calls: 1, selfMicroseconds: 10, totalMicroseconds: 10))
        XCTAssertEqual(s.rows.map(\.name), ["A", "B", "C", "D"])
        XCTAssertEqual(s.totalSelfMicroseconds, 105)
    }

    func testAMissingOrForeignTraceIsAClearError() throws {
        XCTAssertThrowsError(try ProfileSummary(tracePath: "/nonexistent/trace.json")) {
            XCTAssertTrue("\($0)".hasPrefix("profile trace /nonexistent/trace.json: cannot read it"), "\($0)")
        }
        let path = NSTemporaryDirectory() + "contour-not-a-trace-\(getpid()).json"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try Data("[1, 2]".utf8).write(to: URL(fileURLWithPath: path))
        XCTAssertThrowsError(try ProfileSummary(tracePath: path)) { XCTAssertTrue("\($0)".contains("expected a Chrome trace"), "\($0)") }
    }
}
