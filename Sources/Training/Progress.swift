import Foundation

/// A one-line progress display: redrawn in place on a terminal, plain lines otherwise.
public final class Progress {
    public var total: Int
    let label: String
    let quiet: Bool
    let isTerminal = isatty(STDOUT_FILENO) != 0
    let start = Date()

    public init(total: Int, label: String, quiet: Bool) {
        self.total = total
        self.label = label
        self.quiet = quiet
    }

    public func update(_ done: Int, _ detail: String) {
        guard !quiet else { return }
        let elapsed = Date().timeIntervalSince(start)
        let rate = elapsed > 0 ? Double(done) / elapsed : 0
        let eta = rate > 0 ? Double(total - done) / rate : 0
        let width = 24
        let filled = total > 0 ? width * done / total : width
        let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
        let line = String(format: "%@ %@ %d/%d %@ %.1f it/s ETA %.0fs", label, bar, done, total, detail, rate, eta)
        if isTerminal {
            print("\r\u{1B}[2K" + line, terminator: done == total ? "\n" : "")
            fflush(stdout)
        } else if done == total || done % Swift.max(total / 10, 1) == 0 {
            print(line)
        }
    }
}
