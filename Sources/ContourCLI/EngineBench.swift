import ArgumentParser
import Foundation
import NeuralNet
import Torch

/// `contour bench engine`: what the Swift binding costs over libtorch, and a training step
/// against PyTorch running the same network (benchmarks/engine_reference.py's TinyUNet in the
/// long-lived benchmarks/bench_worker.py), both in BenchMethod's interleaved rounds.
struct EngineBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "engine",
        abstract: "Per-op binding overhead and a UNet training step vs PyTorch (same run).")

    @Option(help: "1-element adds for the per-op overhead.") var ops = 100_000
    @Option(help: "Batch size of the training step.") var batch = 8
    @Option(help: "Image side of the training step.") var size = 128
    @Option(help: "Timed interleaved rounds (one training step per side each).") var rounds = 10
    @Option(help: "Untimed warm-up rounds.") var warmup = 3
    @Option(help: "Intra-op threads for both Contour and PyTorch (default: libtorch's choice).") var threads: Int?
    @Option(help: "Python with torch for the reference (default: .venv-bench/bin/python, else python3; 'none' to skip).")
    var python: String?
    @Flag(help: "Small sizes (the `bench all` set: batch 2, 64², 10 000 ops).") var quick = false
    @Flag(help: "Print JSON (an array of rows, the schema of every bench).") var json = false

    func run() throws {
        try BenchRecord.emit(try measure(), json: json)
    }

    func measure() throws -> [BenchRecord] {
        if let threads { try Torch.setThreads(threads) }
        let threadCount = Torch.threads
        let method = try BenchMethod(warmup: warmup, rounds: rounds)
        let (ops, batch, size) = quick ? (10_000, 2, 64) : (self.ops, self.batch, self.size)
        guard ops >= 1, batch >= 1, size >= 8, size % 4 == 0 else {
            throw ValidationError("need --ops ≥ 1, --batch ≥ 1 and a --size ≥ 8 divisible by 4")
        }

        // 1. Per-op overhead: the same loop of 1-element adds in Swift and inside C++, interleaved.
        let a = try Tensor.ones([1]), b = try Tensor.ones([1])
        let perOp = try method.run([
            { try BenchMethod.milliseconds { for _ in 0..<ops { _ = try a.adding(b) } } },
            { try Torch.nativeAddLoopSeconds(ops) * 1e3 },
        ])
        var records = [method.record(bench: "engine", name: "per-op binding", size: "\(ops) 1-element adds",
                                     contour: perOp[0], reference: perOp[1],
                                     referenceName: "the same loop in C++ (libtorch \(Torch.version))", threads: threadCount)]

        // 2. Forward + backward + Adam step of TinyUNet against PyTorch's same network in the worker.
        try Torch.manualSeed(0)
        let model = try TinyUNet(inChannels: 1, classes: 2, base: 16, levels: 3)
        let optimizer = try Adam(model.parameters(), learningRate: 1e-3)
        let x = try Tensor.randn([batch, 1, size, size])
        let y = try Tensor.randint(0, 2, [batch, size, size])
        let (started, startNote) = ReferenceWorker.start(python: python, threads: threadCount)
        defer { started?.close() }
        var note = startNote, worker: ReferenceWorker?
        if let w = started, note == nil {
            note = try w.prepare("tinyunet", ref: "torch.tinyunet", args: ["batch": batch, "size": size, "threads": threadCount])
            if note == nil { worker = w }
        }
        var arms: [() throws -> Double] = [{
            try BenchMethod.milliseconds {
                try optimizer.zeroGrad()
                let loss = try model(x).crossEntropy(target: y)
                try loss.backward()
                try optimizer.step()
                _ = try loss.item()
            }
        }]
        if let worker { arms.append { try worker.time("tinyunet").ms } }
        let steps = try method.run(arms)
        records.append(method.record(bench: "engine", name: "TinyUNet fwd+bwd+Adam", size: "batch \(batch) × 1 × \(size)²",
                                     contour: steps[0], reference: worker == nil ? nil : steps[1],
                                     referenceName: "PyTorch \(worker?.versions["torch"] ?? "") (benchmarks/bench_worker.py)",
                                     threads: threadCount, note: note))
        return records
    }
}
