import ArgumentParser
import Foundation

/// The reference side of a bench: benchmarks/bench_worker.py, started once and kept alive
/// across rounds (one JSON request per line in, one reply per line out), with its thread
/// count pinned through the environment to the bench's. It times its own calls, so neither
/// interpreter start-up nor the pipe is ever inside a timed figure.
final class ReferenceWorker {
    static let script = "benchmarks/bench_worker.py"
    static let install = "make bench-venv (or --python PATH to a Python with numpy, scipy, torch, monai, cc3d, edt)"

    let worker: LineWorker
    var python: String { worker.python }
    private(set) var versions: [String: String] = [:]

    /// The Python a bench uses: `--python`, else .venv-bench/bin/python, else python3; nil for "none".
    static func interpreter(_ option: String?) -> String? {
        if let option { return option == "none" ? nil : option }
        let venv = ".venv-bench/bin/python"
        return FileManager.default.isExecutableFile(atPath: venv) ? venv : "python3"
    }

    /// Starts the worker; throws with the install hint when it cannot run.
    init(python: String, threads: Int) throws {
        var env = ProcessInfo.processInfo.environment
        for key in ["OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"] { env[key] = "\(threads)" }
        worker = try LineWorker(python: python, script: Self.script, environment: env, needs: "it needs numpy; \(Self.install)")
        let hello = try request(["op": "hello"])
        versions = (hello["versions"] as? [String: Any] ?? [:]).mapValues { "\($0)" }
    }

    /// Starts the worker, or returns nil and a note saying how to install it.
    static func start(python option: String?, threads: Int) -> (ReferenceWorker?, String?) {
        guard let python = interpreter(option) else { return (nil, "reference skipped (--python none)") }
        do { return (try ReferenceWorker(python: python, threads: threads), nil) } catch {
            return (nil, "no reference: \(error) — install it with \(install)")
        }
    }

    /// One request, one reply; a worker error is thrown.
    @discardableResult
    func request(_ o: [String: Any]) throws -> [String: Any] {
        try worker.exchange(String(decoding: try JSONSerialization.data(withJSONObject: o), as: UTF8.self))
    }

    /// Prepares reference `ref` under `id`; nil when ready, else a note naming the missing package and the install command.
    func prepare(_ id: String, ref: String, args: [String: Any]) throws -> String? {
        let r = try request(["op": "prepare", "id": id, "ref": ref, "args": args])
        if let missing = r["missing"] as? String { return "\(ref) needs the Python package '\(missing)': \(r["install"] ?? Self.install)" }
        return nil
    }

    /// Times one call of `id` in the worker: its milliseconds and result summary.
    func time(_ id: String) throws -> (ms: Double, result: Any?) {
        let r = try request(["op": "time", "id": id])
        guard let ms = r["ms"] as? Double else { throw ValidationError("\(Self.script): no 'ms' in the reply for \(id)") }
        return (ms, r["result"])
    }

    /// A one-line description of the worker's versions, e.g. "python 3.12, torch 2.11.0, scipy 1.15".
    var versionLine: String { versions.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ") }

    func close() { worker.close(quit: "{\"op\": \"quit\"}") }
}
