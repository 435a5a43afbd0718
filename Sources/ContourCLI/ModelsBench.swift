import ArgumentParser
import Foundation
import Metrics
import Models
import NeuralNet
import Objectives
import Torch
import Training

/// `contour bench models`: ConDSeg inference throughput and its stage-2 training step against
/// PyTorch running the official model class (benchmarks/models_reference.py) in the same run.
/// Both sides load the same weights (Contour's seeded initialisation, written as safetensors)
/// and the same inputs; their first outputs must agree before anything is timed. Rounds are
/// BenchMethod's (interleaved, seeded random order, each side times only its own work; ratio =
/// median of per-round Contour/PyTorch time ratios with a bootstrap 95 % interval).
struct ModelsBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "models",
        abstract: "ConDSeg inference images/s and a stage-2 training step vs PyTorch's official model (same run).",
        discussion: """
        Goals (issue 17): inference ≥ 1.0 × PyTorch on the CPU; ≥ 200 fps on an H100 in bf16 \
        (README anchor: 59.6 fps on an RTX 4090); training step ratio Contour/PyTorch ≤ 1.03. \
        Example: contour bench models --batches 1,16 --rounds 5 --threads 2 --python /path/to/python
        """)

    @Option(help: "Model (condseg).") var model = "condseg"
    @Option(help: "ResNet encoder: resnet50, resnet34 or resnet18.") var encoder = "resnet50"
    @Option(help: "Image side (a multiple of 16).") var size = 256
    @Option(help: "Inference batch sizes, comma-separated.") var batches = "1,16"
    @Option(help: "Timed interleaved rounds per measurement (BenchMethod: seeded random order, bootstrap CI).") var rounds = 10
    @Option(help: "Untimed warm-up rounds before them.") var warmup = 1
    @Option(help: "Forwards per inference measurement (raise on a GPU, where one forward is short).") var iters = 1
    @Option(help: "Batch of the stage-2 training step (default 12, as published, on CUDA; 2 on the CPU; 0 skips it).")
    var trainBatch: Int?
    @Option(help: "Intra-op threads for both sides (default: libtorch's choice).") var threads: Int?
    @Option(help: "cpu or cuda.") var device = "cpu"
    @Option(help: "fp32, or bf16 (autocast on both sides).") var precision = "fp32"
    @Flag(help: ArgumentHelp("Inference as CUDA graphs on both sides (recorded once per batch size, replayed); CUDA only.",
                             discussion: "Needs libcontour_cudagraph.so (`make cudagraph`)."))
    var cudaGraph = false
    @Option(help: "Python with torch ≥ 2.11 and safetensors (default: .venv-bench/bin/python if present; 'none': Contour only).")
    var python: String?
    @Option(help: ArgumentHelp("After the timed rounds, profile one more training step on each side into DIR.",
                               discussion: "Writes DIR/contour-train.json and DIR/pytorch-train.json (Chrome traces: chrome://tracing, "
                                   + "Perfetto) and prints the ops with the largest self time on either side.",
                               valueName: "DIR"))
    var profile: String?
    @Flag(help: "Print JSON.") var json = false

    // fp32 on a GPU: cuDNN runs convolutions in TF32 (PyTorch's default; both sides), so the two
    // differ by TF32 rounding (1.6e-4 measured on an H200) rather than fp32's.
    static let inferenceTolerance = (fp32: 1e-4, tf32: 2e-3, bf16: 5e-2)
    static let lossTolerance = (fp32: 1e-5, tf32: 1e-4, bf16: 1e-2)

    /// Validated settings.
    struct Setup {
        var depth: ResNetDepth
        var device: Device
        var bf16: Bool
        var batches: [Int]
        var trainBatch: Int
        var python: String?
    }

    func setup() throws -> Setup {
        guard model == "condseg" else { throw ValidationError("--model: '\(model)' is not benchmarked; available: condseg") }
        guard let depth = ResNetDepth(rawValue: encoder) else {
            throw ValidationError("--encoder: '\(encoder)'; expected \(ResNetDepth.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        guard size > 0, size % 16 == 0 else { throw ValidationError("--size \(size): expected a positive multiple of 16") }
        let list = batches.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !list.isEmpty, list.allSatisfy({ ($0 ?? 0) > 0 }) else {
            throw ValidationError("--batches '\(batches)': expected comma-separated positive integers, e.g. 1,16")
        }
        guard rounds >= 2, warmup >= 0, iters >= 1 else { throw ValidationError("need --rounds ≥ 2, --warmup ≥ 0 and --iters ≥ 1") }
        guard ["fp32", "bf16"].contains(precision) else { throw ValidationError("--precision '\(precision)': expected fp32 or bf16") }
        let dev: Device
        switch device.lowercased() {
        case "cpu": dev = .cpu
        case "cuda", "gpu", "cuda:0": dev = .cuda(0)
        default: throw ValidationError("--device '\(device)': expected cpu or cuda")
        }
        if cudaGraph {
            guard dev != .cpu else { throw ValidationError("--cuda-graph needs --device cuda") }
        }
        if dev != .cpu, !Device.isCUDAAvailable {
            throw ValidationError("--device cuda: libtorch sees no CUDA GPU (\(Device.cudaUnavailableReason ?? "no device")); "
                + "this build links \(Torch.version) — use a CUDA libtorch on a GPU machine, or --device cpu")
        }
        let train = trainBatch ?? (dev == .cpu ? 2 : 12)
        guard train >= 0 else { throw ValidationError("--train-batch \(train): expected ≥ 0 (0 skips the training step)") }
        var py: String?
        switch python {
        case "none": py = nil
        case let path?: py = path
        case nil:
            let venv = ".venv-bench/bin/python"
            guard FileManager.default.isExecutableFile(atPath: venv) else {
                throw ValidationError("no \(venv): make bench-venv, or --python PATH (a Python with torch and safetensors), or --python none")
            }
            py = venv
        }
        return Setup(depth: depth, device: dev, bf16: precision == "bf16", batches: list.map { $0! }, trainBatch: train, python: py)
    }

    func run() throws {
        let report = try measure(progress: !json)
        if json {
            print(try BenchRecord.json(Self.records(report)))
        } else {
            print(Self.text(report))
        }
    }

    /// The report's rows in the schema every bench prints with --json.
    static func records(_ r: [String: Any]) -> [BenchRecord] {
        let encoder = r["encoder"] as? String ?? "", side = r["size"] as? Int ?? 0
        let threads = r["threads_contour"] as? Int ?? 0, rounds = r["rounds"] as? Int ?? 0
        let reference = "official ConDSeg class, PyTorch \(r["torch_reference"] ?? "-") (benchmarks/models_reference.py)"
        func row(_ name: String, _ size: String, _ o: [String: Any]) -> BenchRecord {
            let ci = o["time_ratio_ci95"] as? [Double]
            return BenchRecord(bench: "models", name: name, size: size, contourMs: o["contour_ms"] as? Double ?? .nan,
                               referenceMs: o["reference_ms"] as? Double, ratio: o["time_ratio"] as? Double, ciLow: ci?[0], ciHigh: ci?[1],
                               rounds: rounds, threads: threads, reference: reference, agree: o["agree"] as? Bool, note: r["note"] as? String)
        }
        var out = (r["inference"] as? [[String: Any]] ?? []).map {
            row("ConDSeg-\(encoder) inference", "batch \($0["batch"] ?? "") × 3 × \(side)²", $0)
        }
        if let t = r["training"] as? [String: Any] {
            out.append(row("ConDSeg-\(encoder) train step", "batch \(t["batch"] ?? "") × 3 × \(side)²", t))
        }
        return out
    }

    /// Runs the benchmark and returns its report (what --json prints).
    func measure(progress showProgress: Bool = false) throws -> [String: Any] {
        let s = try setup()
        if let threads { try Torch.setThreads(threads) }
        let dev = s.device
        try Torch.manualSeed(0)
        let net = try ModelRegistry.make(model, options: Options(["encoder": .string(encoder), "size": .number(Double(size))], for: "model"),
                                         context: ModelContext(inChannels: 3, classes: 1))
        let maxBatch = s.batches.max()!
        let x = try Tensor.rand([maxBatch, 3, size, size])
        let trainX = try Tensor.rand([max(s.trainBatch, 1), 3, size, size])
        // A fixed binary target: smooth random blobs covering about half of each image.
        let trainY = try Tensor.rand([max(s.trainBatch, 1), 1, size / 16, size / 16]).interpolate(size: [size, size], mode: .linear).gt(0.5)

        var report: [String: Any] = [
            "model": model, "encoder": encoder, "size": size, "device": dev.description, "precision": precision,
            "contour_libtorch": Torch.version, "threads_contour": Torch.threads, "rounds": rounds, "warmup": warmup, "iters": iters, "cuda_graph": cudaGraph,
            "unit": dev == .cpu ? "images/s" : "fps",
        ]
        var reference: ModelsReference?
        let dir = (NSTemporaryDirectory() as NSString).appendingPathComponent("contour-models-bench-\(getpid())")
        defer {
            reference?.close()
            try? FileManager.default.removeItem(atPath: dir)
        }
        if let py = s.python {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            let weights = (dir as NSString).appendingPathComponent("weights.safetensors")
            let inputs = (dir as NSString).appendingPathComponent("inputs.safetensors")
            try net.save(to: weights)
            try Safetensors.save([("x", x), ("train_x", trainX), ("train_y", try trainY.to(.float32))], to: inputs)
            reference = try ModelsReference(python: py, arguments: [
                "--weights", weights, "--inputs", inputs, "--encoder", encoder, "--threads", "\(Torch.threads)",
                "--device", dev == .cpu ? "cpu" : "cuda", "--precision", precision])
            report["python"] = py
            report["torch_reference"] = reference!.torchVersion
            report["threads_reference"] = reference!.threads
            report["device_name"] = reference!.deviceName
        } else {
            report["note"] = "no reference (--python none): Contour's figures only"
        }
        try net.to(dev)
        let xs = try s.batches.map { b in try x.narrow(dim: 0, start: 0, length: b).contiguous().to(dev) }

        func elapsed(_ t0: UInt64) -> Double { Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6 }
        func autocast<R>(_ body: () throws -> R) throws -> R {
            s.bf16 ? try withAutocast(device: dev, dtype: .bfloat16, body) : try body()
        }
        let heads = net.headSpecs.map(\.name)

        // 1. Agreement of the four logit heads (eval mode) at the smallest batch, before timing.
        net.eval()
        if let reference {
            let b = s.batches.min()!, i = s.batches.firstIndex(of: b)!
            let ours = try withoutGradients { try autocast { try net.heads(xs[i]) } }
            let path = (dir as NSString).appendingPathComponent("reference-heads.safetensors")
            _ = try reference.reply(to: "dump \(b) \(path)")
            let theirs = try Safetensors.load(path)
            var worst = 0.0, magnitude = 0.0
            for h in heads {
                guard let t = theirs[h] else { throw ValidationError("\(ModelsReference.script) wrote no head '\(h)'") }
                let a = try ours.require(h, by: "bench").to(.cpu, dtype: .float32)
                let scale = max(try t.abs().max().item(), 1e-30)
                magnitude = max(magnitude, scale)
                worst = max(worst, try (a - t).abs().max().item() / scale)
            }
            let tolerance = s.bf16 ? Self.inferenceTolerance.bf16 : dev == .cpu ? Self.inferenceTolerance.fp32 : Self.inferenceTolerance.tf32
            report["check_inference"] = ["batch": b, "max_rel_diff": worst, "tolerance": tolerance, "max_abs_logit": magnitude] as [String: Any]
            guard worst <= tolerance else {
                throw ValidationError("Contour and PyTorch disagree before timing: max relative difference of the heads \(worst) > \(tolerance)")
            }
        }

        // 2. Inference: eval mode, no gradients, sigmoid of the four heads; BenchMethod's interleaved rounds.
        let method = try BenchMethod(warmup: warmup, rounds: rounds)
        let progress = Progress(total: (s.batches.count + (s.trainBatch > 0 ? 1 : 0)) * (warmup + rounds), label: "bench models",
                                quiet: !showProgress)
        var done = 0
        func tick(_ what: String) -> (Int, Int) -> Void {
            { round, _ in done += 1; progress.update(done, "\(what), round \(round)") }
        }
        func fill(_ row: inout [String: Any], _ ours: [Double], _ theirs: [Double]?) {
            row["contour_ms"] = Descriptive.median(ours)
            row["contour_ms_rounds"] = ours
            guard let theirs else { return }
            let r = method.ratio(ours, theirs)
            row["reference_ms"] = Descriptive.median(theirs)
            row["reference_ms_rounds"] = theirs
            row["time_ratio"] = r.ratio
            row["time_ratio_ci95"] = [r.low, r.high]
            row["ci_wider_than_5pct"] = r.high > r.ratio * 1.05 || r.low < r.ratio * 0.95
        }
        var inference: [[String: Any]] = []
        func infer(_ x: Tensor) throws -> [Tensor] {
            try withoutGradients {
                let h = try autocast { try net.heads(x) }
                return try heads.map { try h.require($0, by: "bench").to(.float32).sigmoid() }
            }
        }
        for (i, b) in s.batches.enumerated() {
            var graph: CUDAGraph?
            var graphCheck: Double?
            if cudaGraph {
                // Warm up eagerly (lazy cuDNN/cuBLAS set-up must not happen while recording), then
                // record one forward; its replay must reproduce the eager outputs.
                var eager: [Tensor] = []
                for _ in 0..<3 { eager = try infer(xs[i]) }
                let g = try CUDAGraph()
                let recorded = try g.capture(on: dev) { try infer(xs[i]) }
                try g.replay()
                try Torch.synchronize()
                graphCheck = try zip(recorded, eager).map { try ($0 - $1).abs().max().item() }.max() ?? 0
                guard graphCheck! <= 1e-5 else {
                    throw ValidationError("the CUDA graph's replay differs from the eager forward by \(graphCheck!) at batch \(b)")
                }
                graph = g
            }
            var arms: [() throws -> Double] = [{
                try Torch.synchronize()
                let t0 = DispatchTime.now().uptimeNanoseconds
                for _ in 0..<iters {
                    if let graph { try graph.replay() } else { _ = try infer(xs[i]) }
                }
                try Torch.synchronize()
                return elapsed(t0)
            }]
            if let reference { arms.append { try reference.milliseconds("infer \(b) \(iters)\(cudaGraph ? " graph" : "")").ms } }
            let samples = try method.run(arms, progress: tick("inference batch \(b)"))
            var row: [String: Any] = ["batch": b]
            if let graphCheck { row["cuda_graph_replay_max_abs_diff"] = graphCheck }
            fill(&row, samples[0], reference == nil ? nil : samples[1])
            row["contour_per_s"] = Double(b * iters) / Descriptive.median(samples[0]) * 1e3
            if reference != nil {
                row["reference_per_s"] = Double(b * iters) / Descriptive.median(samples[1]) * 1e3
                row["agree"] = true  // the heads were checked above
            }
            inference.append(row)
        }
        report["inference"] = inference

        // 3. Stage-2 training step: forward (train mode), the condseg loss, backward, Adam.
        if s.trainBatch > 0 {
            net.train()
            let objective = try CompositeObjective(terms: [.init(weight: 1, objective: try ObjectiveRegistry.make("condseg"))])
            let parameters = net.trainableParameters()
            let context = StepContext(model: net, objective: objective, balancer: SumBalancer(), device: dev, parameters: parameters,
                                      autocast: s.bf16, foregroundClasses: [1])
            let optimizer = try Adam(parameters, learningRate: 1e-4)
            let images = try trainX.to(dev)
            let targets = try Targets(labels: try trainY.to(dev, dtype: .int64), classes: 2)
            // Every arm runs once per round (warm-up included): the first entries are the first step's.
            var losses: [Double] = [], referenceLosses: [Double] = []
            var phases: [String: [Double]] = [:], referencePhases: [String: [Double]] = [:]
            func contourStep() throws -> Double {
                try Torch.synchronize()
                let t0 = DispatchTime.now().uptimeNanoseconds
                try optimizer.zeroGrad()
                let values = try context.losses(try context.forward(images), targets)
                _ = try values[0].item()
                let t1 = DispatchTime.now().uptimeNanoseconds
                let outcome = try context.apply(values)
                try Torch.synchronize()
                let t2 = DispatchTime.now().uptimeNanoseconds
                try optimizer.step()
                try Torch.synchronize()
                phases["forward_loss", default: []].append(Double(t1 - t0) / 1e6)
                phases["backward", default: []].append(Double(t2 - t1) / 1e6)
                phases["optimizer", default: []].append(elapsed(t2))
                losses.append(outcome.total)
                return elapsed(t0)
            }
            var arms: [() throws -> Double] = [contourStep]
            if let reference {
                arms.append {
                    let (ms, reply) = try reference.milliseconds("train")
                    referenceLosses.append(reply["loss"] as? Double ?? .nan)
                    for (k, v) in reply["phases_ms"] as? [String: Double] ?? [:] { referencePhases[k, default: []].append(v) }
                    return ms
                }
            }
            let samples = try method.run(arms, progress: tick("training step"))
            func medians(_ p: [String: [Double]]) -> [String: Double] { p.mapValues { Descriptive.median(Array($0.dropFirst(warmup))) } }
            var row: [String: Any] = ["batch": s.trainBatch, "first_loss_contour": losses.first ?? .nan, "contour_phases_ms": medians(phases)]
            if !referencePhases.isEmpty { row["reference_phases_ms"] = medians(referencePhases) }
            fill(&row, samples[0], nil)
            if let a = losses.first, let b = referenceLosses.first {
                let tolerance = s.bf16 ? Self.lossTolerance.bf16 : dev == .cpu ? Self.lossTolerance.fp32 : Self.lossTolerance.tf32
                row["first_loss_reference"] = b
                row["first_loss_tolerance"] = tolerance
                guard Swift.abs(a - b) <= tolerance * Swift.max(1, Swift.abs(b)) else {
                    throw ValidationError("Contour and PyTorch disagree on the first training step's loss: \(a) vs \(b) (tolerance \(tolerance))")
                }
                row["agree"] = true
                fill(&row, samples[0], samples[1])
            }
            if let profile {
                try FileManager.default.createDirectory(atPath: profile, withIntermediateDirectories: true)
                let ours = "\(profile)/contour-train.json"
                _ = try Profiler.record(to: ours) { try contourStep() }
                var traces = ["contour": ours]
                if let reference {
                    let theirs = "\(profile)/pytorch-train.json"
                    _ = try reference.milliseconds("train \(theirs)")
                    traces["pytorch"] = theirs
                }
                row["profile_traces"] = traces
                row["profile_top"] = try Self.profileTable(contour: ours, reference: traces["pytorch"])
            }
            report["training"] = row
        }
        return report
    }

    /// The ops with the largest self time on either side (ms, calls), both traces' totals first.
    static func profileTable(contour: String, reference: String?, top: Int = 25) throws -> [[String: Any]] {
        let ours = try ProfileSummary(tracePath: contour), theirs = try reference.map { try ProfileSummary(tracePath: $0) }
        let a = Dictionary(uniqueKeysWithValues: ours.rows.map { ($0.name, $0) })
        let b = Dictionary(uniqueKeysWithValues: (theirs?.rows ?? []).map { ($0.name, $0) })
        let names = Set(a.keys).union(b.keys).sorted {
            let x = max(a[$0]?.selfMicroseconds ?? 0, b[$0]?.selfMicroseconds ?? 0), y = max(a[$1]?.selfMicroseconds ?? 0, b[$1]?.selfMicroseconds ?? 0)
            return x != y ? x > y : $0 < $1
        }
        var rows: [[String: Any]] = [["name": "(all ops)", "contour_self_ms": ours.totalSelfMicroseconds / 1e3,
                                      "reference_self_ms": theirs.map { $0.totalSelfMicroseconds / 1e3 } as Any]]
        for n in names.prefix(top) {
            rows.append(["name": n, "contour_self_ms": (a[n]?.selfMicroseconds ?? 0) / 1e3, "contour_calls": a[n]?.calls ?? 0,
                         "reference_self_ms": theirs == nil ? NSNull() : (b[n]?.selfMicroseconds ?? 0) / 1e3, "reference_calls": b[n]?.calls ?? 0])
        }
        return rows
    }

    /// The human-readable report.
    static func text(_ r: [String: Any]) -> String {
        func f(_ v: Any?, _ format: String) -> String { (v as? Double).map { String(format: format, $0) } ?? "—" }
        func pad(_ s: String, _ width: Int) -> String { String(repeating: " ", count: max(0, width - s.count)) + s }
        func ci(_ v: Any?) -> String { (v as? [Double]).map { String(format: "%.3f–%.3f", $0[0], $0[1]) } ?? "" }
        let unit = r["unit"] as? String ?? "images/s"
        var lines: [String] = []
        let threads = "threads: Contour \(r["threads_contour"] ?? "?")" + (r["threads_reference"].map { ", PyTorch \($0)" } ?? "")
        lines.append("ConDSeg-\(r["encoder"] ?? "") \(r["size"] ?? "")², \(r["device"] ?? "") \(r["device_name"].map { "(\($0)) " } ?? "")"
            + "\(r["precision"] ?? ""), \(threads)")
        lines.append("Contour: libtorch \(r["contour_libtorch"] ?? "?")"
            + (r["torch_reference"].map { "; reference: PyTorch \($0) (\(r["python"] ?? "")), official ConDSeg class" } ?? "; \(r["note"] ?? "")"))
        if let c = r["check_inference"] as? [String: Any] {
            lines.append("check: heads agree at batch \(c["batch"] ?? ""), max relative difference \(f(c["max_rel_diff"], "%.2e")) "
                + "(≤ \(f(c["tolerance"], "%.0e")); largest |logit| \(f(c["max_abs_logit"], "%.3g")))")
        }
        lines.append("inference (eval, no grad, sigmoid of the 4 heads): \(r["rounds"] ?? "") interleaved rounds after \(r["warmup"] ?? "") warm-up, "
            + "\(r["iters"] ?? 1) forward(s) each, medians" + ((r["cuda_graph"] as? Bool ?? false) ? "; CUDA graphs on both sides (replays)" : ""))
        lines.append("  batch   Contour \(unit)   PyTorch \(unit)   time ratio Contour/PyTorch (95 % bootstrap CI)")
        var wide = false
        for row in r["inference"] as? [[String: Any]] ?? [] {
            wide = wide || (row["ci_wider_than_5pct"] as? Bool ?? false)
            lines.append("  " + pad("\(row["batch"] as? Int ?? 0)", 5) + "   " + pad(f(row["contour_per_s"], "%.3f"), 16) + "   "
                + pad(f(row["reference_per_s"], "%.3f"), 16) + "   " + f(row["time_ratio"], "%.3f")
                + (row["time_ratio_ci95"].map { " (\(ci($0)))" } ?? ""))
        }
        if let t = r["training"] as? [String: Any] {
            wide = wide || (t["ci_wider_than_5pct"] as? Bool ?? false)
            lines.append("training step (stage 2: forward, condseg loss, backward, Adam lr 1e-4), batch \(t["batch"] ?? ""):")
            if t["first_loss_reference"] != nil {
                lines.append("  first-step loss: Contour \(f(t["first_loss_contour"], "%.7f")), PyTorch \(f(t["first_loss_reference"], "%.7f"))")
            }
            lines.append("  Contour \(f(t["contour_ms"], "%.1f")) ms, PyTorch \(f(t["reference_ms"], "%.1f")) ms → time ratio Contour/PyTorch "
                + "\(f(t["time_ratio"], "%.3f")) \(t["time_ratio_ci95"].map { "(\(ci($0)))" } ?? "")")
            let ours = t["contour_phases_ms"] as? [String: Double] ?? [:], theirs = t["reference_phases_ms"] as? [String: Double] ?? [:]
            lines.append("  medians by phase (ms), Contour / PyTorch: " + ["forward_loss", "backward", "optimizer"].map { k in
                "\(k) \(f(ours[k], "%.1f")) / \(f(theirs[k], "%.1f"))" }.joined(separator: ", "))
        }
        if let t = r["training"] as? [String: Any], let top = t["profile_top"] as? [[String: Any]] {
            lines.append("profile of one more training step (self time, ms; calls), traces: "
                + ((t["profile_traces"] as? [String: String])?.sorted { $0.key < $1.key }.map(\.value).joined(separator: ", ") ?? ""))
            lines.append("  " + pad("Contour", 10) + " " + pad("", 6) + "  " + pad("PyTorch", 10) + " " + pad("", 6) + "  op")
            for row in top {
                lines.append("  " + pad(f(row["contour_self_ms"], "%.1f"), 10) + " " + pad((row["contour_calls"] as? Int).map { "×\($0)" } ?? "", 6)
                    + "  " + pad(f(row["reference_self_ms"], "%.1f"), 10) + " " + pad((row["reference_calls"] as? Int).map { "×\($0)" } ?? "", 6)
                    + "  \(row["name"] ?? "")")
            }
        }
        if wide {
            lines.append("warning: a 95 % interval is wider than ±5 % of its ratio — the machine was noisy or the rounds too few (raise --rounds)")
        }
        return lines.joined(separator: "\n")
    }
}
