import ArgumentParser
import Foundation
import NeuralNet
import Torch

/// `contour bench engine`: what the Swift binding costs over libtorch, and a training step
/// against PyTorch running the same network (benchmarks/engine_reference.py) in the same run.
struct EngineBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "engine",
        abstract: "Per-op binding overhead and a UNet training step vs PyTorch (same run).")

    @Option(help: "1-element adds for the per-op overhead.") var ops = 100_000
    @Option(help: "Timed training steps (after 3 warm-up steps).") var steps = 20
    @Option(help: "Batch size of the training step.") var batch = 8
    @Option(help: "Image side of the training step.") var size = 128
    @Option(help: "Intra-op threads for both Contour and PyTorch (default: libtorch's choice).") var threads: Int?
    @Option(help: "Python with torch for the reference (default: .venv-bench/bin/python if present; 'none' to skip).")
    var python: String?
    @Flag(help: "Print JSON.") var json = false

    func run() throws {
        if let threads { try Torch.setThreads(threads) }
        let threadCount = Torch.threads

        // 1. Per-op overhead: the same loop in Swift and inside C++.
        let a = try Tensor.ones([1]), b = try Tensor.ones([1])
        var swiftBest = Double.infinity, nativeBest = Double.infinity
        for _ in 0..<3 {
            let t0 = DispatchTime.now().uptimeNanoseconds
            for _ in 0..<ops { _ = try a.adding(b) }
            swiftBest = Swift.min(swiftBest, Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
            nativeBest = Swift.min(nativeBest, try Torch.nativeAddLoopSeconds(ops))
        }
        let perOpSwift = swiftBest / Double(ops) * 1e6, perOpNative = nativeBest / Double(ops) * 1e6

        // 2. Forward + backward + Adam step of TinyUNet, batch × 1 × size × size.
        try Torch.manualSeed(0)
        let model = try TinyUNet(inChannels: 1, classes: 2, base: 16, levels: 3)
        let optimizer = try Adam(model.parameters(), learningRate: 1e-3)
        let x = try Tensor.randn([batch, 1, size, size])
        let y = try Tensor.randint(0, 2, [batch, size, size])
        var times: [Double] = []
        for i in 0..<(steps + 3) {
            let t0 = DispatchTime.now().uptimeNanoseconds
            try optimizer.zeroGrad()
            let loss = try model(x).crossEntropy(target: y)
            try loss.backward()
            try optimizer.step()
            _ = try loss.item()
            if i >= 3 { times.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6) }
        }
        let contourMs = median(times)

        var referenceMs: Double?
        var referenceNote = ""
        if let py = pythonPath() {
            do {
                referenceMs = try runReference(python: py, threads: threadCount)
            } catch {
                referenceNote = "reference failed: \(error)"
            }
        } else {
            referenceNote = "no Python with torch (make bench-venv, or --python PATH)"
        }

        let ratio = referenceMs.map { contourMs / $0 }
        if json {
            var o: [String: Any] = [
                "threads": threadCount, "ops": ops,
                "per_op_us_swift": perOpSwift, "per_op_us_libtorch": perOpNative,
                "per_op_overhead_us": perOpSwift - perOpNative,
                "step_ms_contour": contourMs, "batch": batch, "size": size, "steps": steps,
            ]
            if let referenceMs { o["step_ms_pytorch"] = referenceMs }
            if let ratio { o["step_ratio_contour_over_pytorch"] = ratio }
            if !referenceNote.isEmpty { o["note"] = referenceNote }
            let data = try JSONSerialization.data(withJSONObject: o, options: [.sortedKeys, .prettyPrinted])
            print(String(decoding: data, as: UTF8.self))
        } else {
            print("threads: \(threadCount)")
            print(String(format: "per-op (1-element add, %d ops): Swift %.3f µs, libtorch alone %.3f µs → binding adds %.3f µs/op",
                         ops, perOpSwift, perOpNative, perOpSwift - perOpNative))
            print(String(format: "TinyUNet fwd+bwd+Adam, batch %d × 1 × %d², median of %d: Contour %.1f ms/step", batch, size, steps, contourMs))
            if let referenceMs, let ratio {
                print(String(format: "PyTorch (same run): %.1f ms/step → ratio Contour/PyTorch %.3f", referenceMs, ratio))
            } else {
                print(referenceNote)
            }
        }
    }

    func pythonPath() -> String? {
        if let python { return python == "none" ? nil : python }
        let venv = ".venv-bench/bin/python"
        return FileManager.default.isExecutableFile(atPath: venv) ? venv : nil
    }

    func runReference(python: String, threads: Int) throws -> Double {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = ["benchmarks/engine_reference.py", "--steps", "\(steps)", "--batch", "\(batch)",
                             "--size", "\(size)", "--threads", "\(threads)"]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0,
              let object = try JSONSerialization.jsonObject(with: data) as? [String: Any],
              let ms = object["ms_per_step"] as? Double else {
            throw ValidationError("engine_reference.py exited with \(process.terminationStatus)")
        }
        return ms
    }
}
