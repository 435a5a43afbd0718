import ArgumentParser
import Foundation
import Models
import NeuralNet
import Objectives
import Torch
import Training

/// `contour bench engine`: what the Swift binding costs over libtorch, and training steps against
/// PyTorch running the same networks in the long-lived benchmarks/bench_worker.py, all in
/// BenchMethod's interleaved rounds. TinyUNet (benchmarks/engine_reference.py) is a toy; `unet2d`
/// (the demo's model, objective and optimiser) and `unet3d` are the real models, written in
/// PyTorch in benchmarks/unet_reference.py with Contour's state-dict keys: both sides load the
/// same weights (Contour's, as safetensors) and batch, and take one untimed step whose losses must
/// agree to 1e-5 (relative) before anything is timed.
struct EngineBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "engine",
        abstract: "Per-op binding overhead and UNet training steps vs PyTorch (same run).",
        discussion: """
        Models: tinyunet (toy, Adam, CE), unet2d (the demo's: stages 4, base width 16, CE + Dice, AdamW) and \
        unet3d (the registry's defaults: 5 stages, base width 32, same objective and optimiser). Goal: step \
        ratio ≤ 1.03 with the CI's upper end ≤ 1.05. Example: contour bench engine --model unet2d,unet3d \
        --threads 2 --python .venv-bench/bin/python
        """)

    @Option(help: "1-element adds for the per-op overhead.") var ops = 100_000
    @Option(help: "Training-step rows, comma-separated: \(Self.models.map(\.name).joined(separator: ", ")) or all.") var model = "all"
    @Option(help: "Batch size of the training steps (default per model: \(Self.defaults(\.batch, \.quickBatch))).") var batch: Int?
    @Option(help: "Image/patch side of the training steps (default per model: \(Self.defaults(\.size, \.quickSize))).") var size: Int?
    @Option(help: "Timed interleaved rounds (one training step per side each).") var rounds = 10
    @Option(help: "Untimed warm-up rounds.") var warmup = 3
    @Option(help: "Intra-op threads for both Contour and PyTorch (default: libtorch's choice).") var threads: Int?
    @Option(help: "Python with torch (and safetensors for the unet rows) for the reference (default: .venv-bench/bin/python, else python3; 'none' to skip).")
    var python: String?
    @Flag(help: "Small sizes (the `bench all` set: 10 000 ops and each model's quick size).") var quick = false
    @Flag(help: "Print JSON (an array of rows, the schema of every bench).") var json = false

    /// A training-step row: the model and its batch and side (full and `--quick`).
    struct StepModel {
        var name: String
        var spatialDims: Int
        var batch: Int, size: Int
        var quickBatch: Int, quickSize: Int
    }

    static let models = [
        StepModel(name: "tinyunet", spatialDims: 2, batch: 8, size: 128, quickBatch: 2, quickSize: 64),
        StepModel(name: "unet2d", spatialDims: 2, batch: 4, size: 128, quickBatch: 4, quickSize: 128),
        StepModel(name: "unet3d", spatialDims: 3, batch: 2, size: 64, quickBatch: 1, quickSize: 32),
    ]

    /// The loss of the untimed first step must agree this closely (relative) before timing.
    static let lossTolerance = 1e-5

    static func defaults(_ full: KeyPath<StepModel, Int>, _ small: KeyPath<StepModel, Int>) -> String {
        models.map { "\($0.name) \($0[keyPath: full]) (--quick \($0[keyPath: small]))" }.joined(separator: ", ")
    }

    func run() throws {
        try BenchRecord.emit(try measure(), json: json)
    }

    /// The selected models, in the table's order.
    func selectedModels() throws -> [StepModel] {
        let names = model.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        if names == ["all"] { return Self.models }
        for n in names where !Self.models.contains(where: { $0.name == n }) {
            throw ValidationError("--model: '\(n)' is not benchmarked; expected some of \(Self.models.map(\.name).joined(separator: ",")) or all")
        }
        guard !names.isEmpty else { throw ValidationError("--model '\(model)': expected a model name") }
        return Self.models.filter { names.contains($0.name) }
    }

    func measure() throws -> [BenchRecord] {
        if let threads { try Torch.setThreads(threads) }
        let threadCount = Torch.threads
        let method = try BenchMethod(warmup: warmup, rounds: rounds)
        let ops = quick ? 10_000 : self.ops
        let selected = try selectedModels()
        guard ops >= 1, (batch ?? 1) >= 1, (size ?? 8) >= 8 else {
            throw ValidationError("need --ops ≥ 1, --batch ≥ 1 and --size ≥ 8")
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

        // 2. Training steps against PyTorch in one long-lived worker.
        let (started, startNote) = ReferenceWorker.start(python: python, threads: threadCount)
        let dir = (NSTemporaryDirectory() as NSString).appendingPathComponent("contour-engine-bench-\(getpid())")
        defer {
            started?.close()
            try? FileManager.default.removeItem(atPath: dir)
        }
        let worker = startNote == nil ? started : nil
        for m in selected {
            let batch = self.batch ?? (quick ? m.quickBatch : m.batch), size = self.size ?? (quick ? m.quickSize : m.size)
            let row = m.name == "tinyunet"
                ? try tinyUNetRow(batch: batch, size: size, method: method, worker: worker, note: startNote, threads: threadCount)
                : try unetRow(m, batch: batch, size: size, method: method, worker: worker, note: startNote, dir: dir, threads: threadCount)
            records.append(row)
        }
        return records
    }

    /// TinyUNet forward + backward + Adam against engine_reference.py's (own seeds on each side).
    func tinyUNetRow(batch: Int, size: Int, method: BenchMethod, worker started: ReferenceWorker?, note startNote: String?,
                     threads: Int) throws -> BenchRecord {
        guard size % 4 == 0 else { throw ValidationError("--size \(size): TinyUNet needs a side divisible by 4") }
        try Torch.manualSeed(0)
        let model = try TinyUNet(inChannels: 1, classes: 2, base: 16, levels: 3)
        let optimizer = try Adam(model.parameters(), learningRate: 1e-3)
        let x = try Tensor.randn([batch, 1, size, size])
        let y = try Tensor.randint(0, 2, [batch, size, size])
        var note = startNote, worker: ReferenceWorker?
        if let w = started {
            note = try w.prepare("tinyunet", ref: "torch.tinyunet", args: ["batch": batch, "size": size, "threads": threads])
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
        return method.record(bench: "engine", name: "TinyUNet fwd+bwd+Adam", size: "batch \(batch) × 1 × \(size)²",
                             contour: steps[0], reference: worker == nil ? nil : steps[1],
                             referenceName: "PyTorch \(worker?.versions["torch"] ?? "") (benchmarks/bench_worker.py)",
                             threads: threads, note: note)
    }

    static func demoConfig() throws -> ExperimentConfig { try ExperimentConfig.load(yaml: Demo.config, name: "demo configuration") }

    /// A unet row's network (1 input channel, 2 classes) and its options: unet2d is the demo's model,
    /// unet3d the registry's defaults. The fixture of BenchUNetKeysTests holds their state-dict keys.
    static func makeUNet(_ name: String, demo: ExperimentConfig) throws -> (net: any SegmentationModel, options: Options) {
        let options = Options(name == demo.model.name ? demo.model.options : [:], for: name)
        return (try ModelRegistry.make(name, options: options, context: ModelContext(inChannels: 1, classes: 2)), options)
    }

    /// One training iteration of `unet2d`/`unet3d` as the trainer runs it (StepContext: forward,
    /// the demo's objectives, backward; the demo's optimiser) against unet_reference.py's.
    func unetRow(_ m: StepModel, batch: Int, size: Int, method: BenchMethod, worker started: ReferenceWorker?, note startNote: String?,
                 dir: String, threads: Int) throws -> BenchRecord {
        let demo = try Self.demoConfig()
        try Torch.manualSeed(0)
        let (net, options) = try Self.makeUNet(m.name, demo: demo)
        guard size % net.sizeDivisor == 0 else {
            throw ValidationError("--size \(size): \(m.name) needs a side divisible by \(net.sizeDivisor)")
        }
        net.train()
        let spatial = [Int](repeating: size, count: m.spatialDims)
        let x = try Tensor.randn([batch, 1] + spatial)
        let y = try Tensor.randint(0, 2, [batch, 1] + spatial)
        let objective = try CompositeObjective(terms: demo.objectives.map {
            CompositeObjective.Term(weight: $0.weight, objective: try ObjectiveRegistry.make($0.name, options: $0.options))
        })
        let parameters = net.trainableParameters()
        let context = StepContext(model: net, objective: objective, balancer: SumBalancer(), device: .cpu, parameters: parameters,
                                  foregroundClasses: [1])
        let o = demo.optimizer
        let optimizer = try OptimizerRegistry.make(o.name, groups: [ParameterGroup(parameters, learningRate: o.learningRate, weightDecay: o.weightDecay)],
                                                   options: o.registryOptions())
        let targets = try Targets(labels: y, classes: 2)
        func step() throws -> Double {
            try optimizer.zeroGrad()
            let outcome = try context.apply(try context.losses(try context.forward(x), targets))
            try optimizer.step()
            return outcome.total
        }

        var note = startNote, worker: ReferenceWorker?
        if let w = started {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            let weights = (dir as NSString).appendingPathComponent("\(m.name).safetensors")
            let inputs = (dir as NSString).appendingPathComponent("\(m.name)-batch.safetensors")
            try net.save(to: weights)
            try Safetensors.save([("x", x), ("y", y)], to: inputs)
            let resolved = try JSONSerialization.jsonObject(with: JSONEncoder().encode(options.resolved))
            note = try w.prepare(m.name, ref: "torch.unet", args: [
                "weights": weights, "inputs": inputs, "spatial": m.spatialDims, "options": resolved, "in_channels": 1, "classes": 2,
                "lr": o.learningRate, "weight_decay": o.weightDecay, "threads": threads,
            ])
            if note == nil { worker = w }
        }
        // The agreement check: one untimed step on each side from the same weights and batch.
        let ours = try step()
        var agree: Bool?
        if let worker {
            let theirs = try worker.time(m.name).result as? Double ?? .nan
            let difference = Swift.abs(ours - theirs) / Swift.max(Swift.abs(theirs), .leastNormalMagnitude)
            agree = difference <= Self.lossTolerance
            if agree != true {
                note = String(format: "first-step loss Contour %.8g, PyTorch %.8g: relative difference %.2g > %.0e — the two do not compute the same function",
                              ours, theirs, difference, Self.lossTolerance)
            }
        }
        var arms: [() throws -> Double] = [{ try BenchMethod.milliseconds { _ = try step() } }]
        if let worker { arms.append { try worker.time(m.name).ms } }
        let steps = try method.run(arms)
        let side = m.spatialDims == 2 ? "\(size)²" : "\(size)³"
        return method.record(bench: "engine", name: "\(m.name) fwd+bwd+\(o.name == "adamw" ? "AdamW" : o.name)", size: "batch \(batch) × 1 × \(side)",
                             contour: steps[0], reference: worker == nil ? nil : steps[1],
                             referenceName: "PyTorch \(worker?.versions["torch"] ?? "") (benchmarks/unet_reference.py)",
                             threads: threads, agree: agree, note: note)
    }
}
