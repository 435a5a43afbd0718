import Foundation
import XCTest
import Imaging
import Models
import NeuralNet
import Objectives
import Torch
@testable import Training

/// The CUDA paths against the CPU: every objective and model gives the same values on both
/// devices, and a training run (each method's step) completes on the GPU. Skipped without a GPU;
/// run on one with `swift test --filter CUDATests` (or scripts/device/gpu_check.sh).
final class CUDATests: XCTestCase {
    var dir: String!

    override func setUpWithError() throws {
        guard Device.isCUDAAvailable else {
            throw XCTSkip("no CUDA device: \(Device.cudaUnavailableReason ?? "unknown reason")")
        }
        dir = NSTemporaryDirectory() + "contour-cuda-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        if let dir { try? FileManager.default.removeItem(atPath: dir) }
    }

    let gpu = Device.cuda(0)

    func maxDifference(_ a: Tensor, _ b: Tensor) throws -> Double {
        try (a.to(.cpu).to(.float64) - b.to(.cpu).to(.float64)).abs().max().item()
    }

    func testTensorsRoundTripAndComputeAsOnTheCPU() throws {
        try Torch.manualSeed(1)
        let a = try Tensor.randn([64, 48]), b = try Tensor.randn([48, 32])
        let ga = try a.to(gpu)
        XCTAssertEqual(ga.device, gpu)
        XCTAssertEqual(try ga.to(.cpu).floats(), try a.floats(), "a copy to the GPU and back is exact")
        XCTAssertLessThan(try maxDifference(try ga.matmul(try b.to(gpu)), try a.matmul(b)), 1e-3)
        let x = try Tensor.randn([2, 3, 16, 16]), w = try Tensor.randn([4, 3, 3, 3])
        XCTAssertLessThan(try maxDifference(try x.to(gpu).conv(weight: try w.to(gpu)), try x.conv(weight: w)), 1e-3)
        XCTAssertThrowsError(try Tensor.zeros([2], device: .cuda(Device.cudaDeviceCount))) { error in
            XCTAssertTrue("\(error)".contains("\(Device.cudaDeviceCount)"), "\(error)")
        }
    }

    /// Every registered objective that takes (logits, labels) with its defaults: the loss and its
    /// gradient on the GPU equal the CPU's (float64, so differences are the devices', not rounding).
    func testEveryObjectiveGivesTheCPUValueAndGradient() throws {
        try Torch.manualSeed(2)
        let logits = try Tensor.randn([2, 3, 24, 24], dtype: .float64)
        // A 8×10 block of class 1 and a 6×6 block of class 2 in each sample.
        var values = [Int64](repeating: 0, count: 2 * 24 * 24)
        for n in 0..<2 {
            for y in 0..<24 {
                for x in 0..<24 {
                    if (4..<12).contains(y) && (6..<16).contains(x) { values[n * 576 + y * 24 + x] = 1 }
                    if (14..<20).contains(y) && (14..<20).contains(x) { values[n * 576 + y * 24 + x] = 2 }
                }
            }
        }
        let labels = try Tensor(values, shape: [2, 24, 24])
        var checked: [String] = []
        for name in ObjectiveRegistry.names {
            func run(_ device: Device) throws -> (Double, Tensor) {
                let x = try logits.to(device).detached().requiringGrad()
                let objective = try ObjectiveRegistry.make(name)
                let target = try LossTarget(labels: labels.to(device))
                let loss = try objective.callAsFunction(logits: x, target: target)
                try loss.backward()
                return (try loss.item(), try XCTUnwrap(x.grad))
            }
            // Objectives needing other targets (landmarks, heatmaps, pairs) fail on the CPU too.
            guard let cpu = try? run(.cpu) else { continue }
            let cuda = try run(gpu)
            XCTAssertEqual(cuda.0, cpu.0, accuracy: 1e-7 * max(1, abs(cpu.0)), "\(name) loss")
            XCTAssertLessThan(try maxDifference(cuda.1, cpu.1), 1e-7, "\(name) gradient")
            checked.append(name)
        }
        print("objectives checked on \(gpu): \(checked.joined(separator: ", "))")
        for expected in ["ce", "dice", "cedice", "scnp", "rrw", "cldice", "hadwiger-area", "hadwiger-euler"] {
            XCTAssertTrue(checked.contains(expected), "\(expected) was not checked (checked: \(checked))")
        }
    }

    /// Every registered model: its heads in evaluation mode on the GPU equal the CPU's.
    func testEveryModelGivesTheCPUHeads() throws {
        var checked: [String] = []
        for name in ModelRegistry.names {
            try Torch.manualSeed(3)
            let spatial = name.contains("3d") ? [16, 32, 32] : [64, 64]
            let options = Options(name.hasPrefix("condseg") ? ["encoder": .string("resnet18")] : [:], for: name)
            guard let model = try? ModelRegistry.make(name, options: options, inChannels: 3, classes: 2) else { continue }
            let x = try Tensor.randn([2, 3] + spatial)
            model.eval()
            guard let cpu = try? model.heads(x) else { continue }
            try model.to(gpu)
            let cuda = try model.heads(x.to(gpu))
            XCTAssertEqual(cuda.names, cpu.names, name)
            for head in cpu.names {
                for (a, b) in zip(cuda.levels(head), cpu.levels(head)) {
                    let scale = max(1, try b.abs().max().item())
                    // cuDNN convolves in TF32 by default (as PyTorch): 1e-3–3e-3 measured on an H200.
                    XCTAssertLessThan(try maxDifference(a, b) / scale, 1e-2, "\(name) head \(head)")
                }
            }
            checked.append(name)
        }
        print("models checked on \(gpu): \(checked.joined(separator: ", "))")
        XCTAssertTrue(checked.contains("unet2d") && checked.contains("condseg"), "checked: \(checked)")
    }

    /// A CUDA graph records unet2d's eval forward (under bf16 autocast, whose weight cache is off
    /// while recording); replaying it after copying new inputs into the recorded input gives the
    /// eager forward's outputs on those inputs. Skipped without libcontour_cudagraph.so.
    func testCUDAGraphReplaysAForwardOnNewInputs() throws {
        if let why = CUDAGraph.unavailableReason { throw XCTSkip(why) }
        try Torch.manualSeed(4)
        let model = try ModelRegistry.make("unet2d", options: Options([:], for: "unet2d"), inChannels: 3, classes: 2)
        model.eval()
        try model.to(gpu)
        func forward(_ x: Tensor) throws -> Tensor {
            try withoutGradients { try withAutocast(device: gpu) { try model.heads(x).require("segmentation", by: "test").to(.float32) } }
        }
        let input = try Tensor.randn([2, 3, 64, 64]).to(gpu)
        for _ in 0..<3 { _ = try forward(input) }
        let graph = try CUDAGraph()
        let output = try graph.capture(on: gpu) { try forward(input) }
        XCTAssertTrue(graph.isCaptured)
        for seed in [5, 6] {
            try Torch.manualSeed(UInt64(seed))
            let fresh = try Tensor.randn([2, 3, 64, 64]).to(gpu)
            try input.copyInPlace(from: fresh)
            try graph.replay()
            let eager = try forward(fresh)
            XCTAssertLessThan(try maxDifference(output, eager), 1e-5, "replay on input \(seed)")
            XCTAssertGreaterThan(try output.abs().max().item(), 0)
        }
        XCTAssertThrowsError(try graph.capture(on: gpu) { try forward(input) }) { XCTAssertTrue("\($0)".contains("captured already"), "\($0)") }
        XCTAssertThrowsError(try CUDAGraph().capture(on: .cpu) { 0 }) { XCTAssertTrue("\($0)".contains("not cpu"), "\($0)") }
    }

    func data(_ kind: DemoKind) throws -> String {
        let data = "\(dir!)/data-\(kind.rawValue)"
        try DemoData.write(kind: kind, to: data, trainCount: 6, testCount: 0, seed: 3)
        return data
    }

    /// A short run per method on the GPU: finite losses, a checkpoint, and the weights on the CPU
    /// when loaded back.
    func testEachMethodTrainsOnTheGPU() throws {
        let runs: [(String, DemoKind, String)] = [
            ("cedice", .tubular, "objectives: [cedice]"),
            ("scnp", .tubular, "objectives: [scnp+cedice]"),
            ("rrw", .tubular, "objectives: [rrw, cedice]"),
            ("hadbalance", .shapes, """
             objectives: [{name: hadwiger, options: {primary: cedice}}]
             balancer: {name: caob}
             """),
        ]
        for (name, kind, yaml) in runs {
            let output = "\(dir!)/\(name)"
            let config = try ExperimentConfig.load(yaml: """
            data: {dataset: \(try data(kind)), patchSize: [32, 32], batchSize: 2, workers: 1, preset: none}
            model: {name: unet2d, options: {stages: 3, baseWidth: 4}}
            optimizer: {name: adam, learningRate: 0.01, weightDecay: 0}
            run: {epochs: 2, iterationsPerEpoch: 2, validationInterval: 1, seed: 5, device: cuda, output: \(output)}
            \(yaml)
            """, name: name)
            _ = try Trainer(config: config, quiet: true).train()
            let log = try RunLog(path: "\(output)/log.jsonl").read()
            XCTAssertEqual(log.count, 2, name)
            XCTAssertTrue(log.allSatisfy { $0.trainLoss.isFinite }, "\(name): \(log.map(\.trainLoss))")
            XCTAssertTrue(FileManager.default.fileExists(atPath: "\(output)/checkpoints/latest/model.safetensors"), name)
        }
    }
}
