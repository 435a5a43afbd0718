import ArgumentParser
import Foundation
import Imaging
import Training

/// `contour bench soak`: memory over a long run — trains the demo model and samples the
/// process's resident set size, to catch a leak long before a days-long run would.
struct SoakBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "soak",
        abstract: "Train the demo model --steps steps and print the resident memory (RSS) every --every steps (goal: flat within ±5 % from step 1000 on).",
        discussion: """
        Generates the tubular demo dataset in a temporary folder (or uses --data), trains `contour demo`'s \
        configuration (--set changes it, e.g. --set data.patchSize=[64,64] for a quicker run) in epochs of \
        --every steps, with its validation and checkpoints, and after each epoch reads VmRSS from \
        /proc/self/status. The summary compares the last sample with the first one at or after step 1000 \
        (allocator and libtorch caches settle before that). Set OMP_WAIT_POLICY=PASSIVE on a shared machine.
        """)

    @Option(help: "Training steps (a multiple of --every).") var steps = 20_000
    @Option(help: "Steps between RSS samples.") var every = 1000
    @Option(help: "Demo dataset folder (default: generated in a temporary folder).") var data: String?
    @Option(help: "Override a field of the demo configuration: key.path=value (repeatable).") var set: [String] = []
    @Option(help: "Folder for the run and generated data (default: a fresh temporary folder, removed after).") var work: String?
    @Flag(help: "Print JSON.") var json = false

    func run() throws {
        guard every >= 1, steps >= every, steps % every == 0 else {
            throw ValidationError("--steps (\(steps)) must be a positive multiple of --every (\(every))")
        }
        guard Self.residentMiB() != nil else { throw CommandLineError("bench soak reads /proc/self/status, which this system lacks") }
        let dir = work ?? (NSTemporaryDirectory() as NSString).appendingPathComponent("contour-bench-soak-\(getpid())")
        defer { if work == nil { try? FileManager.default.removeItem(atPath: dir) } }
        let dataset = data ?? "\(dir)/data"
        if !FileManager.default.fileExists(atPath: "\(dataset)/dataset.json") {
            try DemoData.write(kind: .tubular, to: dataset, trainCount: 40, testCount: 0, seed: 0)
        }
        let config = try ExperimentConfig.load(yaml: Demo.config, name: "demo configuration", overrides: [
            "data.dataset=\(dataset)", "run.output=\(dir)/run", "run.epochs=\(steps / every)", "run.iterationsPerEpoch=\(every)",
        ] + set)
        let trainer = try Trainer(config: config, quiet: true)
        let sampler = RSSSampler(every: every, print: !json)
        trainer.observers.append(sampler)
        sampler.start = (0, Self.residentMiB() ?? .nan, Date())
        if !json { print("step 0: RSS \(Self.format(sampler.start.rss)) MiB (after loading the data and building the model)") }
        _ = try trainer.train(overwrite: true)

        let samples = sampler.samples
        let settled = samples.first { $0.step >= 1000 } ?? samples[0]
        let last = samples[samples.count - 1]
        let change = 100 * (last.rss - settled.rss) / settled.rss
        let peak = samples.map(\.rss).max() ?? .nan
        let seconds = last.time.timeIntervalSince(sampler.start.time)
        if json {
            let rows = samples.map { "{\"step\":\($0.step),\"rss_mib\":\(Self.format($0.rss))}" }.joined(separator: ",")
            print("{\"steps\":\(steps),\"samples\":[\(rows)],\"settled_step\":\(settled.step),\"change_percent\":\(String(format: "%.2f", change)),"
                  + "\"peak_mib\":\(Self.format(peak)),\"seconds\":\(String(format: "%.1f", seconds))}")
        } else {
            print(String(format: "RSS from step %d to %d: %@ → %@ MiB (%+.2f %%; goal within ±5 %%), peak %@ MiB; %.1f steps/s",
                         settled.step, last.step, Self.format(settled.rss), Self.format(last.rss), change, Self.format(peak),
                         Double(steps) / seconds))
        }
    }

    static func format(_ mib: Double) -> String { String(format: "%.1f", mib) }

    /// VmRSS of this process in MiB (Linux), nil where /proc is absent.
    static func residentMiB() -> Double? {
        guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
              let kB = Double(line.split(separator: " ").dropFirst().first ?? "") else { return nil }
        return kB / 1024
    }
}

/// Samples RSS at the end of each epoch (every `every` steps, after the epoch's checkpoint).
private final class RSSSampler: TrainingObserver {
    let every: Int
    let print: Bool
    var start: (step: Int, rss: Double, time: Date) = (0, .nan, Date())
    var samples: [(step: Int, rss: Double, time: Date)] = []

    init(every: Int, print: Bool) {
        self.every = every
        self.print = print
    }

    func epochDidEnd(step: Int, record: EpochRecord) throws {
        let rss = SoakBench.residentMiB() ?? .nan
        samples.append((step, rss, Date()))
        if print {
            let rate = Double(every) / Date().timeIntervalSince(samples.count > 1 ? samples[samples.count - 2].time : start.time)
            Swift.print(String(format: "step %d: RSS %@ MiB, loss %.4f, %.1f steps/s", step, SoakBench.format(rss), record.trainLoss, rate))
            fflush(stdout)
        }
    }
}
