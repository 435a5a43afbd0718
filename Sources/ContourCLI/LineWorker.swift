import ArgumentParser
import Foundation

/// A Python script kept alive over pipes: one line in, one JSON object per line out. The bench
/// references (`ReferenceWorker`, `ModelsReference`) speak through it, so interpreter start-up
/// is never inside a timed round.
final class LineWorker {
    let python: String, script: String
    let process = Process()
    let input = Pipe(), output = Pipe()
    var lines: LineReader
    /// Appended to "stopped" errors: what the script needs and how to install it.
    let needs: String

    init(python: String, script: String, arguments: [String] = [], environment: [String: String]? = nil, needs: String) throws {
        guard FileManager.default.fileExists(atPath: script) else {
            throw ValidationError("\(script) not found: run `contour bench` from the repository root")
        }
        self.python = python
        self.script = script
        self.needs = needs
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [python, script] + arguments
        if let environment { process.environment = environment }
        process.standardInput = input
        process.standardOutput = output
        lines = LineReader(handle: output.fileHandleForReading)
        do { try process.run() } catch { throw ValidationError("cannot start \(python) \(script): \(error); \(needs)") }
    }

    /// Sends `line` (nil: nothing, just read) and returns the reply; a reply with "error" is thrown.
    func exchange(_ line: String?) throws -> [String: Any] {
        if let line { try input.fileHandleForWriting.write(contentsOf: Data((line + "\n").utf8)) }
        guard let reply = lines.next() else {
            throw ValidationError("\(python) \(script) stopped (\(needs); its error is above)")
        }
        guard let o = try? JSONSerialization.jsonObject(with: Data(reply.utf8)) as? [String: Any] else {
            throw ValidationError("\(script) replied with a line that is not JSON: \(reply.prefix(200))")
        }
        if let error = o["error"] as? String { throw ValidationError("\(script): \(error)") }
        return o
    }

    /// Sends `quit` and waits for the script to end.
    func close(quit: String) {
        try? input.fileHandleForWriting.write(contentsOf: Data((quit + "\n").utf8))
        try? input.fileHandleForWriting.close()
        process.waitUntilExit()
    }
}
