import Foundation
import Training

/// Runs the missing trainings and evaluations of a comparison as subprocesses of this binary
/// (`contour train`, `contour evaluate`), `jobs` at a time, so one run's crash cannot take the
/// others with it. A run whose evaluation exists is kept; one with a checkpoint resumes
/// (`train --resume`); one killed before its first checkpoint starts again (`--overwrite`, which
/// moves the remains aside). Output of each step goes to `OUTPUT/logs/VARIANT-seedS-foldF.STEP.log`;
/// a progress line per run (with an ETA) goes to stderr.
final class CompareRunner: @unchecked Sendable {
    enum State: String { case done = "done already", fresh = "train", resume = "resume", restart = "restart", evaluate = "evaluate" }

    struct Outcome {
        var run: ComparisonPlan.Run
        var error: String?
    }

    let plan: ComparisonPlan
    let train: Bool
    var jobs = 1
    var nprocPerNode: Int?
    var quiet = false
    let executable = WorkerLauncher.executable()
    private let lock = NSLock()
    private var finished = 0
    private var durations: [Double] = []
    private var nextIndex = 0
    private var outcomes: [Outcome?] = []

    init(plan: ComparisonPlan, train: Bool) {
        self.plan = plan
        self.train = train
    }

    static func state(_ run: String) -> State {
        let fm = FileManager.default
        if ComparisonRunData.isEvaluated(run) { return .done }
        if fm.fileExists(atPath: "\(run)/checkpoints/latest/state.json") { return .resume }
        if RunFolder.holdsRun(run) { return .restart }
        return .fresh
    }

    func run() -> [Outcome] {
        let runs = plan.plannedRuns
        outcomes = [Outcome?](repeating: nil, count: runs.count)
        nextIndex = 0
        let group = DispatchGroup()
        let width = Swift.max(1, Swift.min(jobs, runs.count))
        for _ in 0..<width {
            group.enter()
            Thread.detachNewThread { [self] in
                while true {
                    lock.lock()
                    let i = nextIndex
                    nextIndex += 1
                    lock.unlock()
                    guard i < runs.count else { break }
                    let outcome = execute(runs[i], total: runs.count)
                    lock.lock()
                    outcomes[i] = outcome
                    lock.unlock()
                }
                group.leave()
            }
        }
        group.wait()
        return outcomes.map { $0! }
    }

    func execute(_ run: ComparisonPlan.Run, total: Int) -> Outcome {
        let name = "\(run.variant) seed \(run.seed) fold \(run.fold)"
        var state = Self.state(run.folder)
        if !train && state != .done { state = .evaluate }
        if state == .done {
            report(name, total: total, what: "done already", seconds: nil)
            return Outcome(run: run)
        }
        let started = Date()
        let logs = "\(plan.output)/logs"
        try? FileManager.default.createDirectory(atPath: logs, withIntermediateDirectories: true)
        let stem = "\(logs)/\(run.variant)-seed\(run.seed)-fold\(run.fold)"
        if state != .evaluate {
            var args: [String]
            switch state {
            case .resume: args = ["train", "--resume", run.folder]
            case .restart: args = ["train", "--config", plan.configPath(run.variant), "--overwrite"] + placement(run)
            default: args = ["train", "--config", plan.configPath(run.variant)] + placement(run)
            }
            args.append("--quiet")
            if let n = nprocPerNode { args += ["--nproc-per-node", String(n)] }
            if !quiet { note("[\(name)] \(state == .fresh ? "training" : state == .resume ? "resuming the interrupted run" : "restarting (no checkpoint yet)")") }
            if let error = launch(args, log: "\(stem).train.log") {
                report(name, total: total, what: "FAILED (training)", seconds: Date().timeIntervalSince(started))
                return Outcome(run: run, error: error)
            }
        }
        let dataset = plan.variants.first { $0.name == run.variant }!.config.data.dataset
        let datasetOfRun = (try? ExperimentConfig.load(path: "\(run.folder)/config.yaml").data.dataset) ?? dataset
        // The topology metrics are the slow ones; skipped when none is compared.
        let topology = plan.metrics.contains { $0.hasPrefix("betti") || $0 == "cldice" }
        let evaluate = ["evaluate", "--checkpoint", run.folder, "--dataset", datasetOfRun, "--split", "val"] + (topology ? [] : ["--no-topology"])
        if let error = launch(evaluate, log: "\(stem).evaluate.log") {
            report(name, total: total, what: "FAILED (evaluation)", seconds: Date().timeIntervalSince(started))
            return Outcome(run: run, error: error)
        }
        report(name, total: total, what: state == .evaluate ? "evaluated" : "trained and evaluated", seconds: Date().timeIntervalSince(started))
        return Outcome(run: run)
    }

    func placement(_ run: ComparisonPlan.Run) -> [String] {
        ["--set", "run.seed=\(run.seed)", "--set", "data.fold=\(run.fold)", "--set", "run.output=\(run.folder)"]
    }

    /// Runs `contour ARGS` with its output in `log`; nil on success, else the error it printed.
    func launch(_ args: [String], log: String) -> String? {
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        guard let handle = FileHandle(forWritingAtPath: log) else { return "cannot write \(log)" }
        defer { try? handle.close() }
        let p = Process()
        p.executableURL = executable
        p.arguments = args
        var env = ProcessInfo.processInfo.environment
        // Parallel runs share the cores, as torchrun does, unless the user chose.
        if jobs > 1 && env["OMP_NUM_THREADS"] == nil {
            env["OMP_NUM_THREADS"] = String(Swift.max(1, ProcessInfo.processInfo.activeProcessorCount / jobs))
        }
        p.environment = env
        p.standardOutput = handle
        p.standardError = handle
        do { try p.run() } catch { return "cannot start \(executable.path): \(error)" }
        p.waitUntilExit()
        guard p.terminationReason != .exit || p.terminationStatus != 0 else { return nil }
        let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        let lines = text.split(whereSeparator: \.isNewline).map(String.init).filter { !$0.trimmingCharacters(in: .whitespaces).isEmpty }
        let why = lines.last { $0.hasPrefix("Error:") }.map { String($0.dropFirst(6)).trimmingCharacters(in: .whitespaces) }
            ?? lines.suffix(3).joined(separator: " / ")
        let status = p.terminationReason == .exit ? "exit \(p.terminationStatus)" : "signal \(p.terminationStatus)"
        return "contour \(args[0]) failed (\(status)): \(why.isEmpty ? "no output" : why) — log: \(log)"
    }

    /// `[k/N] NAME: WHAT in Ts · ETA …` (the ETA from the runs that did work so far).
    func report(_ name: String, total: Int, what: String, seconds: Double?) {
        lock.lock()
        finished += 1
        if let seconds { durations.append(seconds) }
        let remaining = total - finished
        var line = "[\(finished)/\(total)] \(name): \(what)"
        if let seconds { line += " in \(Self.duration(seconds))" }
        if remaining > 0, !durations.isEmpty {
            let eta = durations.reduce(0, +) / Double(durations.count) * Double(remaining) / Double(Swift.max(1, Swift.min(jobs, remaining)))
            line += " · ETA \(Self.duration(eta)) for \(remaining) more"
        }
        lock.unlock()
        note(line)
    }

    func note(_ line: String) {
        guard !quiet else { return }
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }

    static func duration(_ s: Double) -> String {
        if s < 90 { return String(format: "%.0f s", s) }
        if s < 5400 { return String(format: "%.0f min", s / 60) }
        return String(format: "%.1f h", s / 3600)
    }
}
