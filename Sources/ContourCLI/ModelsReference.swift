import ArgumentParser
import Foundation

/// The PyTorch side of `contour bench models`: benchmarks/models_reference.py as a long-lived
/// worker, one command line in, one JSON line out, so that interpreter start-up and model
/// construction are never inside a timed round. The worker only times its own work; while
/// Contour runs, it waits on stdin.
final class ModelsReference {
    static let script = "benchmarks/models_reference.py"

    let worker: LineWorker
    var python: String { worker.python }
    /// The worker's "ready" reply: torch version, thread count, device.
    private(set) var ready: [String: Any] = [:]

    init(python: String, arguments: [String]) throws {
        worker = try LineWorker(python: python, script: Self.script, arguments: arguments,
                                needs: "it needs torch and safetensors: make bench-venv, or --python PATH")
        ready = try reply(to: nil)
        guard ready["ready"] as? Bool == true else {
            throw ValidationError("\(python) \(Self.script): \(ready["error"] ?? ready)")
        }
    }

    var torchVersion: String { ready["torch"] as? String ?? "?" }
    var threads: Int { ready["threads"] as? Int ?? 0 }
    var deviceName: String { ready["device_name"] as? String ?? "?" }

    /// Sends one command (nil: none, just read) and returns the worker's JSON reply.
    func reply(to command: String?) throws -> [String: Any] { try worker.exchange(command) }

    /// Milliseconds the worker reports for a command.
    func milliseconds(_ command: String) throws -> (ms: Double, reply: [String: Any]) {
        let r = try reply(to: command)
        guard let ms = r["ms"] as? Double else { throw ValidationError("\(Self.script): no 'ms' in the reply to '\(command)'") }
        return (ms, r)
    }

    func close() { worker.close(quit: "quit") }
}
