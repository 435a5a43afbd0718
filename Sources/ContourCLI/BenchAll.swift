import ArgumentParser
import Foundation

/// `contour bench all`: every timing bench at its small (`--quick`) size set, one table, and the
/// generated section of benchmarks/README.md (machine, date, commit, each ratio with its CI).
struct BenchAll: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "all",
        abstract: "Run every bench (small sizes, or full sizes where asked) and print or write the tables.",
        discussion: """
        Runs engine, geometry, objectives (with the BaBLoss row), balancers, data, models and distributed \
        with --quick (or at their full, goal sizes for those named by --full), all by BenchMethod \
        (interleaved rounds, bootstrap CI). `bench soak` (memory over 20 000 steps) is not part of it. \
        Example: OMP_WAIT_POLICY=PASSIVE contour bench all --full geometry --readme benchmarks/README.md
        """)

    @Option(help: "Python for the references (default .venv-bench/bin/python, else python3; 'none': Contour only).")
    var python: String?
    @Option(help: "Intra-op threads for both sides of the libtorch benches (default: libtorch's choice).") var threads: Int?
    @Option(help: "Comma-separated benches (default all): \(Self.benches.joined(separator: ",")).") var only: String?
    @Option(help: "Rewrite the generated section of this Markdown file (between the bench-all markers; appended when absent).")
    var readme: String?
    @Option(help: "Comma-separated benches to run at their full sizes instead of --quick (e.g. geometry: 1024², 256³, 4096²; models: ResNet-50 256²).")
    var full: String?
    @Flag(help: "Print JSON: machine, date, commit and every row.") var json = false

    static let benches = ["engine", "geometry", "objectives", "balancers", "data", "models", "distributed"]
    static let begin = "<!-- contour bench all: begin (generated; do not edit by hand) -->"
    static let end = "<!-- contour bench all: end -->"

    struct Report: Codable {
        var command: String
        /// The benches run at full size (the others at --quick sizes).
        var full: [String]?
        var machine: String
        var cpus: Int
        var load: String
        var date: String
        var commit: String
        var records: [BenchRecord]
    }

    func run() throws {
        let selected = try Self.benchList(only, option: "--only") ?? Self.benches
        let fullSize = try Self.benchList(full, option: "--full") ?? []
        func size(_ bench: String) -> [String] { fullSize.contains(bench) ? [] : ["--quick"] }
        let py = python.map { ["--python", $0] } ?? []
        let thr = threads.map { ["--threads", "\($0)"] } ?? []
        let loadBefore = Self.loadAverage()
        var records: [BenchRecord] = []
        for bench in selected {
            FileHandle.standardError.write(Data("bench all: \(bench)…\n".utf8))
            switch bench {
            case "engine": records += try EngineBench.parse(size(bench) + py + thr).measure()
            case "geometry": records += try GeometryBench.parse(size(bench) + py).measure()
            case "objectives": records += try ObjectivesBench.parse(size(bench) + ["--bab"] + py + thr).measure()
            case "balancers": records += try BalancerBench.parse(size(bench) + ["--json"] + thr).measure()
            case "data": records += try DataBench.parse(size(bench)).measure()
            case "models":
                let small = ["--encoder", "resnet18", "--size", "64", "--batches", "1,4", "--train-batch", "2"]
                let m = try ModelsBench.parse((fullSize.contains(bench) ? [] : small)
                                              + (python == nil ? Self.defaultPythonForModels() : py) + thr)
                records += ModelsBench.records(try m.measure())
            case "distributed": records += try DistributedBench.parse(size(bench)).measure()
            default: break
            }
        }
        let command = (["contour"] + CommandLine.arguments.dropFirst()).joined(separator: " ")
        let report = Report(command: command, full: fullSize.isEmpty ? nil : fullSize, machine: Self.machine(), cpus: ProcessInfo.processInfo.activeProcessorCount,
                            load: "load average \(loadBefore) before, \(Self.loadAverage()) after",
                            date: ISO8601DateFormatter().string(from: Date()), commit: Self.commit(), records: records)
        if let readme { try Self.write(report, into: readme) }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            print(String(decoding: try encoder.encode(report), as: UTF8.self))
        } else {
            print("\(report.machine), \(report.cpus) cores, \(report.load), \(report.date), commit \(report.commit)")
            print(BenchRecord.table(records))
        }
    }

    /// The models bench needs a Python with torch and safetensors; without one it runs Contour only.
    static func defaultPythonForModels() -> [String] {
        FileManager.default.isExecutableFile(atPath: ".venv-bench/bin/python") ? [] : ["--python", "none"]
    }

    /// The Markdown of a report: one table per bench.
    static func markdown(_ r: Report) -> String {
        let sizes = (r.full ?? []).isEmpty ? "small `--quick` sizes"
            : "full sizes for \(r.full!.joined(separator: ", ")), small `--quick` sizes for the others"
        func f(_ v: Double?, _ format: String) -> String { v.map { String(format: format, $0) } ?? "–" }
        var lines = [
            "Generated by `\(r.command)` (\(sizes); OMP_WAIT_POLICY=\(ProcessInfo.processInfo.environment["OMP_WAIT_POLICY"] ?? "unset")).",
            "",
            "Machine: \(r.machine), \(r.cpus) cores, \(r.load). Date: \(r.date). Commit: `\(r.commit)`.",
            "",
            "Method (every bench, `BenchMethod`): warm-up rounds, then ≥ 10 interleaved rounds in a seeded random order;",
            "each side times only its own work (the Python references run in one long-lived worker, `benchmarks/bench_worker.py`,",
            "so interpreter start-up is never timed). **ratio = Contour time / reference time** (< 1: Contour is faster), the",
            "median of the per-round ratios, with a 95 % percentile-bootstrap CI (10 000 seeded resamples). ⚠ marks a CI wider than ±5 %.",
        ]
        var order: [String] = []
        for rec in r.records where !order.contains(rec.bench) { order.append(rec.bench) }
        for bench in order {
            lines += ["", "#### `contour bench \(bench)`", "",
                      "| row | size | Contour ms | reference ms | ratio | 95 % CI | rounds | threads | agree | reference |",
                      "|---|---|---|---|---|---|---|---|---|---|"]
            for rec in r.records where rec.bench == bench {
                let ci = rec.ciLow.map { String(format: "%.3f–%.3f", $0, rec.ciHigh ?? .nan) + (rec.intervalIsWide ? " ⚠" : "") } ?? "–"
                let agree = rec.agree.map { $0 ? "yes" : "**NO**" } ?? "–"
                let reference = rec.reference + (rec.note.map { " — \($0)" } ?? "")
                lines.append("| \(rec.name) | \(rec.size) | \(f(rec.contourMs, "%.3f")) | \(f(rec.referenceMs, "%.3f")) | \(f(rec.ratio, "%.3f")) "
                    + "| \(ci) | \(rec.rounds) | \(rec.threads) | \(agree) | \(reference.replacingOccurrences(of: "|", with: "\\|")) |")
            }
        }
        return lines.joined(separator: "\n")
    }

    /// The benches named in a comma-separated option value (nil when the option is absent).
    static func benchList(_ value: String?, option: String) throws -> [String]? {
        guard let value else { return nil }
        let names = value.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        for b in names where !benches.contains(b) {
            throw ValidationError("\(option): unknown bench '\(b)'; expected some of \(benches.joined(separator: ","))")
        }
        return names
    }

    /// Replaces the text between the markers in `path` (appends the section when they are absent).
    static func write(_ r: Report, into path: String) throws {
        let old = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        let section = begin + "\n" + markdown(r) + "\n" + end
        let new: String
        if let a = old.range(of: begin), let b = old.range(of: end), a.lowerBound < b.lowerBound {
            new = old.replacingCharacters(in: a.lowerBound..<b.upperBound, with: section)
        } else {
            new = old + (old.isEmpty || old.hasSuffix("\n") ? "" : "\n") + "\n" + section + "\n"
        }
        do { try new.write(toFile: path, atomically: true, encoding: .utf8) } catch {
            throw ValidationError("--readme \(path): cannot write (\(error))")
        }
    }

    static func machine() -> String {
        let cpuinfo = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        let model = cpuinfo.split(separator: "\n").first { $0.hasPrefix("model name") }
            .map { $0.split(separator: ":", maxSplits: 1).last.map { $0.trimmingCharacters(in: .whitespaces) } ?? "" }
        return model.flatMap { $0.isEmpty ? nil : $0 } ?? ProcessInfo.processInfo.hostName
    }

    static func loadAverage() -> String {
        ((try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8)) ?? "?").split(separator: " ").prefix(3).joined(separator: " ")
    }

    static func commit() -> String {
        let p = Process(), out = Pipe()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["git", "rev-parse", "--short", "HEAD"]
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        guard (try? p.run()) != nil else { return "?" }
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        return p.terminationStatus == 0 ? text.trimmingCharacters(in: .whitespacesAndNewlines) : "?"
    }
}
