import ArgumentParser
import Foundation

/// The PyTorch side of `contour bench models`: benchmarks/models_reference.py as a long-lived
/// worker, one command line in, one JSON line out, so that interpreter start-up and model
/// construction are never inside a timed round. The worker only times its own work; while
/// Contour runs, it waits on stdin.
final class ModelsReference {
    static let script = "benchmarks/models_reference.py"

    let python: String
    let process = Process()
    let input = Pipe(), output = Pipe()
    var lines: LineReader
    /// The worker's "ready" reply: torch version, thread count, device.
    private(set) var ready: [String: Any] = [:]

    init(python: String, arguments: [String]) throws {
        guard FileManager.default.fileExists(atPath: Self.script) else {
            throw ValidationError("\(Self.script) not found: run `contour bench models` from the repository root")
        }
        self.python = python
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [python, Self.script] + arguments
        process.standardInput = input
        process.standardOutput = output
        lines = LineReader(handle: output.fileHandleForReading)
        do {
            try process.run()
        } catch {
            throw ValidationError("cannot start \(python) \(Self.script): \(error)")
        }
        ready = try reply(to: nil)
        guard ready["ready"] as? Bool == true else {
            throw ValidationError("\(python) \(Self.script): \(ready["error"] ?? ready)")
        }
    }

    var torchVersion: String { ready["torch"] as? String ?? "?" }
    var threads: Int { ready["threads"] as? Int ?? 0 }
    var deviceName: String { ready["device_name"] as? String ?? "?" }

    /// Sends one command (nil: none, just read) and returns the worker's JSON reply.
    func reply(to command: String?) throws -> [String: Any] {
        if let command { try input.fileHandleForWriting.write(contentsOf: Data((command + "\n").utf8)) }
        guard let line = lines.next() else {
            throw ValidationError("\(python) \(Self.script) stopped (it needs torch and safetensors: make bench-venv, or --python PATH; "
                + "its error is above)")
        }
        guard let o = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
            throw ValidationError("\(Self.script) replied with a line that is not JSON: \(line.prefix(200))")
        }
        if let error = o["error"] as? String { throw ValidationError("\(Self.script): \(error)") }
        return o
    }

    /// Milliseconds the worker reports for a command.
    func milliseconds(_ command: String) throws -> (ms: Double, reply: [String: Any]) {
        let r = try reply(to: command)
        guard let ms = r["ms"] as? Double else { throw ValidationError("\(Self.script): no 'ms' in the reply to '\(command)'") }
        return (ms, r)
    }

    func close() {
        try? input.fileHandleForWriting.write(contentsOf: Data("quit\n".utf8))
        try? input.fileHandleForWriting.close()
        process.waitUntilExit()
    }
}
