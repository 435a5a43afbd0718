import ArgumentParser
import Foundation
import Metrics
import Imaging
import Torch

/// `contour bench distributed`: data-parallel training on this machine's CPUs (Gloo), and the
/// gradient all-reduce on --dist-backend (NCCL on a GPU machine).
struct DistributedBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "distributed",
        abstract: "Data-parallel step time: 1 process × 2 threads vs 2 processes × 1 thread (Gloo), and the gradient all-reduce of a large model.",
        discussion: """
        Trains the demo model (unet2d, 4 stages, width 16, 128² patches) on a generated tubular \
        dataset with the same global batch both ways: one process with --batch-size and 2 threads, \
        and `--nproc-per-node 2` with half the batch and 1 thread each. Each is run for --steps and \
        for --steps × 3 iterations; the difference of the two wall times is the time of the extra \
        steps, free of start-up and validation. Scaling efficiency = samples/s of 2 processes ÷ \
        samples/s of 1 process. Then --workers workers (default 2) on --device with --dist-backend \
        first check every collective (all-reduce sum/avg/max, broadcast, all-gather, barrier, the \
        overlapped gradient reducer) against its expected values, then average the gradients of a \
        --parameters model (layers of 500 k, 25 MB buckets) --repeats times: the all-reduce time one \
        step would add. --all-reduce-only skips the training comparison (e.g. `--all-reduce-only \
        --workers 1 --device cuda --dist-backend nccl` on a one-GPU machine: NCCL refuses two ranks \
        on one GPU).
        """)

    @Option(help: "Steps of the short run (the long run has 3×).") var steps = 10
    @Option(help: "Global batch size (each of 2 processes reads half).") var batchSize = 4
    @Option(help: "Parameters of the all-reduce model.") var parameters = 30_000_000
    @Option(help: "All-reduce repetitions timed (after one warm-up).") var repeats = 5
    @Option(help: "Workers of the all-reduce part (one per GPU with nccl).") var workers = 2
    @Option(help: "Device of the all-reduce part's tensors: auto, cpu, cuda, cuda:N (a worker's cuda is its LOCAL_RANK's GPU).") var device = "cpu"
    @Option(help: "Backend of the all-reduce part: auto, gloo or nccl (as train's --dist-backend).") var distBackend = "auto"
    @Flag(help: "Only the collectives check and the all-reduce timing, not the training comparison.") var allReduceOnly = false
    @Option(help: "Folder for the generated files (default: a fresh temporary folder, removed after).") var work: String?
    @Option(help: .hidden) var allReduceResult: String?
    @Option(help: "Timed interleaved rounds (each runs both layouts once, short and long run).") var rounds = 5
    @Option(help: "Untimed warm-up rounds.") var warmup = 0
    @Flag(help: "Small sizes (the `bench all` set: 2 steps, 3 rounds, 4 M parameters).") var quick = false
    @Flag(help: "Print JSON (an array of rows, the schema of every bench).") var json = false

    func run() throws {
        if let allReduceResult { return try allReduceWorker(result: allReduceResult) }
        try BenchRecord.emit(try measure(), json: json)
    }

    func measure() throws -> [BenchRecord] {
        let (steps, rounds, parameters) = quick ? (2, 3, 4_000_000) : (self.steps, self.rounds, self.parameters)
        guard steps >= 1, repeats >= 1, parameters >= 1, workers >= 1 else { throw ValidationError("--steps, --repeats, --parameters and --workers must be ≥ 1") }
        guard batchSize >= 2, batchSize % 2 == 0 else { throw ValidationError("--batch-size must be even (2 processes share it), got \(batchSize)") }
        let method = try BenchMethod(warmup: warmup, rounds: rounds)
        let dir = work ?? (NSTemporaryDirectory() as NSString).appendingPathComponent("contour-bench-distributed-\(getpid())")
        defer { if work == nil { try? FileManager.default.removeItem(atPath: dir) } }
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try DemoData.write(kind: .tubular, to: "\(dir)/data", trainCount: 20, testCount: 0, seed: 0)

        // ms per step of a layout: a run of 3n steps minus a run of n steps, over 2n (start-up cancels).
        func stepMs(processes: Int) throws -> Double {
            var wall: [Double] = []
            for n in [steps, 3 * steps] {
                let output = "\(dir)/run-\(processes)-\(n)"
                let config = "\(dir)/run-\(processes)-\(n).yaml"
                try? FileManager.default.removeItem(atPath: output)
                try """
                data: {dataset: \(dir)/data, patchSize: [128, 128], batchSize: \(batchSize / processes), workers: 1, preset: nnunet-default}
                model: {name: unet2d, options: {stages: 4, baseWidth: 16}}
                objectives: [cedice]
                optimizer: {name: sgd, learningRate: 0.01, momentum: 0.99, nesterov: true}
                run: {epochs: 1, iterationsPerEpoch: \(n), seed: 1, threads: \(2 / processes), output: \(output)}
                """.write(toFile: config, atomically: true, encoding: .utf8)
                var args = ["train", "--config", config, "--quiet"]
                if processes > 1 { args += ["--nproc-per-node", String(processes)] }
                wall.append(try Self.timed(args))
            }
            return (wall[1] - wall[0]) / Double(2 * steps) * 1e3
        }
        let samples = allReduceOnly ? [] : try method.run([{ try stepMs(processes: 2) }, { try stepMs(processes: 1) }])

        let resultFile = "\(dir)/allreduce.txt"
        var allReduce: [Double] = [], backend = ""
        for _ in 0..<rounds {
            try WorkerLauncher(count: workers, arguments: ["bench", "distributed", "--parameters", String(parameters), "--repeats", String(repeats),
                                                           "--device", device, "--dist-backend", distBackend, "--all-reduce-result", resultFile]).run()
            guard let text = try? String(contentsOfFile: resultFile, encoding: .utf8) else {
                throw CommandLineError("the all-reduce workers wrote no result to \(resultFile)")
            }
            let fields = text.split(separator: " ").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
            guard fields.count == 2, let seconds = Double(fields[0]) else { throw CommandLineError("\(resultFile): unexpected result '\(text)'") }
            allReduce.append(seconds * 1e3)
            backend = fields[1]
        }
        // On stderr, so --json stays one document; scripts/device/nccl_check.sh looks for it.
        fputs("collectives checked on \(backend) (\(workers) workers, \(device)): all-reduce sum/avg/max, broadcast, all-gather, barrier, gradient reducer\n", stderr)
        var records: [BenchRecord] = []
        if !allReduceOnly {
            let twoMs = Descriptive.median(samples[0])
            records.append(method.record(bench: "distributed", name: "2 processes × 1 thread", size: "unet2d 4 stages, global batch \(batchSize) × 128²",
                                         contour: samples[0], reference: samples[1], referenceName: "Contour, 1 process × 2 threads (same cores)", threads: 2,
                                         note: String(format: "%.1f samples/s; ratio < 1: data parallelism pays", Double(batchSize) / twoMs * 1e3)))
        }
        records.append(method.record(bench: "distributed", name: "gradient all-reduce (\(backend))",
                                     size: String(format: "%.1f M parameters, %d workers, %@", Double(parameters) / 1e6, workers, device),
                                     contour: allReduce, reference: nil, referenceName: "none", threads: workers,
                                     note: String(format: "%.2f GB/s of gradients", Double(parameters * 4) / Descriptive.median(allReduce) / 1e6)))
        return records
    }

    /// Wall seconds of `contour ARGS` (this binary); its failure is an error with its output.
    static func timed(_ arguments: [String]) throws -> Double {
        let p = Process(), out = Pipe()
        p.executableURL = WorkerLauncher.executable()
        p.arguments = arguments
        p.standardOutput = out
        p.standardError = out
        let start = Date()
        try p.run()
        let text = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else {
            throw CommandLineError("contour \(arguments.joined(separator: " ")) failed:\n" + String(decoding: text, as: UTF8.self))
        }
        return Date().timeIntervalSince(start)
    }

    /// A worker: averages the gradients of `parameters` parameters (layers of 500 k) `repeats` times.
    func allReduceWorker(result: String) throws {
        guard let env = try DistributedEnvironment.read(ProcessInfo.processInfo.environment) else {
            throw CommandLineError("--all-reduce-result is for the workers `contour bench distributed` starts")
        }
        let (backend, notice, resolved) = try DistributedOptions.backend(distBackend, device: device, localRank: env.localRank)
        if let notice, env.rank == 0 { fputs("note: \(notice)\n", stderr) }
        let group = try Distributed(env, timeout: 120, backend: backend, device: backend == .nccl ? resolved : nil)
        try Self.checkCollectives(group, device: resolved)
        var sizes: [Int] = []
        var left = parameters
        while left > 0 { sizes.append(Swift.min(500_000, left)); left -= sizes.last! }
        let params = try sizes.map { n -> Tensor in
            let p = try Tensor.zeros([n], device: resolved).requiringGrad()
            try p.setGrad(try Tensor.randn([n], device: resolved))
            return p
        }
        try group.averageGradients(params)
        try group.barrier()
        try Torch.synchronize()
        let start = Date()
        for _ in 0..<repeats { try group.averageGradients(params) }
        try Torch.synchronize()
        let seconds = Date().timeIntervalSince(start) / Double(repeats)
        if group.rank == 0 { try AtomicFile.write(Array("\(seconds) \(backend.rawValue)".utf8), to: result) }
    }

    /// Every collective on `device` tensors against its expected value (rank r contributes r + 1);
    /// a wrong value is an error naming the collective and the rank.
    static func checkCollectives(_ g: Distributed, device: Device) throws {
        let w = Double(g.worldSize), k = Double(g.rank + 1)
        func expect(_ what: String, _ got: Tensor, _ want: [Double]) throws {
            let values = try got.to(.cpu).doubles()
            guard values.count == want.count, zip(values, want).allSatisfy({ abs($0 - $1) <= 1e-5 * Swift.max(1, abs($1)) }) else {
                throw CommandLineError("\(g.backend.rawValue) \(what) on rank \(g.rank) of \(g.worldSize): got \(values), expected \(want)")
            }
        }
        let x = try Tensor([Float(k), Float(2 * k)], device: device)
        try expect("all-reduce sum", try g.allReduce(x, .sum), [w * (w + 1) / 2, w * (w + 1)])
        try expect("all-reduce avg", try g.allReduce(x, .average), [(w + 1) / 2, w + 1])
        try expect("all-reduce max", try g.allReduce(x, .max), [w, 2 * w])
        try expect("broadcast", try g.broadcast(x, from: 0), [1, 2])
        try expect("all-gather", try g.allGather(x), (1...g.worldSize).flatMap { [Double($0), 2 * Double($0)] })
        try g.barrier()
        let p = try Tensor.zeros([3], device: device).requiringGrad()
        let reducer = try GradientReducer(group: g, parameters: [p], bucketBytes: 8)
        try reducer.arm()
        try (p * k).sum().backward()
        try reducer.finish()
        try expect("gradient reducer", p.grad ?? Tensor.zeros([0]), [Double](repeating: (w + 1) / 2, count: 3))
    }
}
