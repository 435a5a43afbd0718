import ArgumentParser
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Torch

/// `--nproc-per-node N` on one machine, like `torchrun --standalone`: starts N copies of this
/// binary with the same arguments (less the flag) and MASTER_ADDR/MASTER_PORT/RANK/WORLD_SIZE/
/// LOCAL_RANK/LOCAL_WORLD_SIZE set, forwards their output line by line prefixed `[rank i]`, and
/// when one fails gives the others `grace` seconds to stop on their own (they report the rank
/// that stopped) before terminating them; the launcher then fails naming the first failed rank.
/// SIGINT/SIGTERM reaching the launcher (Ctrl-C, scancel) are passed on to every worker — they
/// run in their own process groups — so training stops cleanly at a step; a second signal is
/// passed on too (the workers then quit at once), and the launcher exits 128 + the signal.
struct WorkerLauncher {
    let count: Int
    let arguments: [String]
    var grace: Double = 15
    var environment = ProcessInfo.processInfo.environment

    init(count: Int, arguments: [String]) throws {
        guard count >= 1 else { throw CommandLineError("--nproc-per-node must be ≥ 1, got \(count)") }
        if let rank = ProcessInfo.processInfo.environment["RANK"] {
            throw CommandLineError("--nproc-per-node starts the workers itself, but this process is already a worker (RANK=\(rank) is set); "
                                   + "drop --nproc-per-node when torchrun or SLURM starts contour")
        }
        self.count = count
        self.arguments = arguments
    }

    /// The arguments without `--nproc-per-node N` / `--nproc-per-node=N`.
    static func workerArguments(_ arguments: [String]) -> [String] {
        var out: [String] = [], skip = false
        for a in arguments {
            if skip { skip = false; continue }
            if a == "--nproc-per-node" { skip = true; continue }
            if a.hasPrefix("--nproc-per-node=") { continue }
            out.append(a)
        }
        return out
    }

    static func executable() -> URL {
        #if os(Linux)
        let own = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        if FileManager.default.isExecutableFile(atPath: own.path) { return own }
        #endif
        return URL(fileURLWithPath: Bundle.main.executablePath ?? CommandLine.arguments[0])
    }

    /// Runs the workers to the end; throws naming the first rank that failed.
    func run() throws {
        let cores = ProcessInfo.processInfo.activeProcessorCount
        if count > cores {
            fputs("warning: --nproc-per-node \(count) is more than this machine's \(cores) cores; the workers will compete for them\n", stderr)
        }
        let port = try environment["MASTER_PORT"].flatMap(Int.init) ?? DistributedEnvironment.freePort()
        let executable = Self.executable()
        let output = LineForwarder()
        let events = Events()
        var processes: [Process] = []
        var readers: [Thread] = []
        for rank in 0..<count {
            let p = Process()
            p.executableURL = executable
            p.arguments = arguments
            var env = environment
            let dist = DistributedEnvironment(masterAddress: environment["MASTER_ADDR"] ?? "127.0.0.1", masterPort: port, rank: rank,
                                              worldSize: count, localRank: rank, localWorldSize: count)
            env.merge(dist.variables) { _, new in new }
            // As torchrun: the cores are shared out unless the user chose.
            if env["OMP_NUM_THREADS"] == nil { env["OMP_NUM_THREADS"] = String(Swift.max(1, cores / count)) }
            p.environment = env
            let out = Pipe(), err = Pipe()
            p.standardOutput = out
            p.standardError = err
            p.terminationHandler = { events.exited(rank: rank, process: $0) }
            readers.append(output.reader(out.fileHandleForReading, prefix: "[rank \(rank)] ", toStandardError: false))
            readers.append(output.reader(err.fileHandleForReading, prefix: "[rank \(rank)] ", toStandardError: true))
            processes.append(p)
        }
        let forwarded = SignalForwarder(processes)
        defer { forwarded.stop() }
        for (rank, p) in processes.enumerated() {
            do { try p.run() } catch {
                processes.prefix(rank).forEach { $0.terminate() }
                throw CommandLineError("cannot start worker \(rank) (\(executable.path)): \(error)")
            }
        }
        readers.forEach { $0.start() }
        // The first failure starts the grace period; then the rest are terminated.
        var failure: (rank: Int, why: String)?
        var done = 0
        while done < count {
            let deadline: Date? = failure == nil ? nil : events.firstFailureTime.map { $0.addingTimeInterval(grace) }
            guard let (rank, p) = events.next(until: deadline) else {
                for q in processes where q.isRunning { q.terminate() }
                events.waitForRest(count - done, until: Date().addingTimeInterval(5))
                for q in processes where q.isRunning { kill(q.processIdentifier, SIGKILL) }
                break
            }
            done += 1
            if failure == nil, p.terminationReason == .uncaughtSignal || p.terminationStatus != 0 {
                let why = p.terminationReason == .uncaughtSignal ? "was killed by signal \(p.terminationStatus)"
                    : "exited with status \(p.terminationStatus)"
                failure = (rank, why)
                events.markFailure()
            }
        }
        output.drain()
        if let sig = forwarded.signal, processes.allSatisfy({ $0.terminationReason == .exit && [0, 128 + sig].contains($0.terminationStatus) }) {
            throw ExitCode(128 + sig)
        }
        if let failure {
            throw CommandLineError("worker rank \(failure.rank) of \(count) \(failure.why); the other workers were stopped")
        }
    }
}

/// Passes SIGINT and SIGTERM on to the running workers while the launcher waits for them.
private final class SignalForwarder: @unchecked Sendable {
    private var sources: [DispatchSourceSignal] = []
    private let lock = NSLock()
    private var received: Int32?

    init(_ processes: [Process]) {
        for sig in [SIGINT, SIGTERM] {
            Glibc.signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            // Weak: a strong self here made a cycle (self → sources → handler → self) that kept the
            // workers' Process objects alive past the launch (LeakSanitizer, `make check-sanitizers`).
            source.setEventHandler { [weak self] in
                guard let self else { return }
                lock.lock()
                if received == nil { received = sig }
                lock.unlock()
                for p in processes where p.isRunning { kill(p.processIdentifier, sig) }
            }
            source.resume()
            sources.append(source)
        }
    }

    /// The first signal passed on, if any.
    var signal: Int32? {
        lock.lock()
        defer { lock.unlock() }
        return received
    }

    func stop() {
        sources.forEach { $0.cancel() }
        sources.removeAll()
        for sig in [SIGINT, SIGTERM] { Glibc.signal(sig, SIG_DFL) }
    }
}

/// Worker exits, in the order they happen.
private final class Events: @unchecked Sendable {
    private let condition = NSCondition()
    private var queue: [(Int, Process)] = []
    private(set) var firstFailureTime: Date?

    func exited(rank: Int, process: Process) {
        condition.lock()
        queue.append((rank, process))
        condition.broadcast()
        condition.unlock()
    }

    func markFailure() {
        condition.lock()
        if firstFailureTime == nil { firstFailureTime = Date() }
        condition.unlock()
    }

    /// The next exit; nil when `deadline` passes first.
    func next(until deadline: Date?) -> (Int, Process)? {
        condition.lock()
        defer { condition.unlock() }
        while queue.isEmpty {
            if let deadline {
                if !condition.wait(until: deadline) && queue.isEmpty { return nil }
            } else {
                condition.wait()
            }
        }
        return queue.removeFirst()
    }

    func waitForRest(_ n: Int, until deadline: Date) {
        condition.lock()
        defer { condition.unlock() }
        while queue.count < n && condition.wait(until: deadline) {}
    }
}

/// Copies the workers' output to ours a whole line at a time, each line prefixed by its rank.
private final class LineForwarder: @unchecked Sendable {
    private let lock = NSLock()
    private let finished = DispatchGroup()

    /// A thread (not started) that forwards `handle` until its end.
    func reader(_ handle: FileHandle, prefix: String, toStandardError: Bool) -> Thread {
        finished.enter()
        return Thread { [self] in
            forward(handle, prefix: prefix, to: toStandardError ? stderr : stdout)
            finished.leave()
        }
    }

    private func forward(_ handle: FileHandle, prefix: String, to stream: UnsafeMutablePointer<FILE>) {
        var pending = Data()
        while true {
            let chunk = handle.availableData
            if chunk.isEmpty { break }
            pending.append(chunk)
            while let nl = pending.firstIndex(of: UInt8(ascii: "\n")) {
                emit(pending[pending.startIndex...nl], prefix: prefix, to: stream)
                pending = Data(pending[(nl + 1)...])
            }
        }
        if !pending.isEmpty { emit(pending + [UInt8(ascii: "\n")], prefix: prefix, to: stream) }
    }

    private func emit(_ line: Data, prefix: String, to stream: UnsafeMutablePointer<FILE>) {
        // A worker's progress redraws (\r) start a fresh prefixed line each.
        let text = String(decoding: line, as: UTF8.self).replacingOccurrences(of: "\r", with: "\r" + prefix)
        lock.lock()
        fputs(prefix + text, stream)
        fflush(stream)
        lock.unlock()
    }

    /// Waits until every reader reached the end of its pipe (bounded: a grandchild may hold one open).
    func drain() {
        _ = finished.wait(timeout: .now() + 5)
    }
}
