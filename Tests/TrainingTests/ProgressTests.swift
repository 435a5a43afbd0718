import XCTest
@testable import Training

/// Progress off a terminal: a line per tenth, never a carriage-return redraw (issue 18, item 7).
final class ProgressTests: XCTestCase {
    func lines(total: Int, isTerminal: Bool) -> [String] {
        var out: [String] = []
        let progress = Progress(total: total, label: "epoch 1/1", isTerminal: isTerminal) { out.append($0) }
        for i in 1...total { progress.update(i, "loss 0.5") }
        return out
    }

    func testAPipeGetsOneLinePerTenthAndNoRedraws() {
        let fifteen = lines(total: 15, isTerminal: false)
        XCTAssertEqual(fifteen.count, 10, fifteen.joined())
        XCTAssertTrue(fifteen.allSatisfy { $0.hasSuffix("\n") && !$0.contains("\r") && !$0.contains("\u{1B}") })
        XCTAssertTrue(fifteen.last!.contains(" 15/15 "), fifteen.last!)
        XCTAssertEqual(lines(total: 1000, isTerminal: false).count, 10)
        XCTAssertEqual(lines(total: 3, isTerminal: false).count, 3)
    }

    func testATerminalRedrawsInPlace() {
        let out = lines(total: 4, isTerminal: true)
        XCTAssertEqual(out.count, 4)
        XCTAssertTrue(out.allSatisfy { $0.hasPrefix("\r\u{1B}[2K") })
        XCTAssertEqual(out.filter { $0.hasSuffix("\n") }.count, 1, "a newline only at the end")
    }
}
