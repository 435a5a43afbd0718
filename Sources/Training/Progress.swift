import Foundation

/// A one-line progress display on stderr (stdout is for results): redrawn in place on a
/// terminal; elsewhere (a pipe, a log file under nohup/SLURM) a plain line at each tenth of the
/// total and at the end, never a redraw per step.
public final class Progress {
    public var total: Int
    let label: String
    let quiet: Bool
    let isTerminal: Bool
    let start = Date()
    /// Where lines go; stderr unless a test collects them.
    let write: (String) -> Void

    public init(total: Int, label: String, quiet: Bool) {
        self.total = total
        self.label = label
        self.quiet = quiet
        isTerminal = isatty(STDERR_FILENO) != 0
        write = { fputs($0, stderr) }
    }

    init(total: Int, label: String, isTerminal: Bool, write: @escaping (String) -> Void) {
        self.total = total
        self.label = label
        quiet = false
        self.isTerminal = isTerminal
        self.write = write
    }

    public func update(_ done: Int, _ detail: String) {
        guard !quiet else { return }
        let elapsed = Date().timeIntervalSince(start)
        let rate = elapsed > 0 ? Double(done) / elapsed : 0
        let eta = rate > 0 ? Double(total - done) / rate : 0
        let width = 24
        let filled = total > 0 ? Swift.min(width * done / total, width) : width
        let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
        let line = String(format: "%@ %@ %d/%d %@ %.1f it/s ETA %.0fs", label, bar, done, total, detail, rate, eta)
        if isTerminal {
            write("\r\u{1B}[2K" + line + (done == total ? "\n" : ""))
        } else if Self.isMilestone(done, of: total) {
            write(line + "\n")
        }
    }

    /// Whether step `done` (1-based) crosses a tenth of `total` or ends it: at most ten lines.
    static func isMilestone(_ done: Int, of total: Int) -> Bool {
        guard total > 0, done < total else { return true }
        return done * 10 / total > (done - 1) * 10 / total
    }
}
