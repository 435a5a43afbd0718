import ArgumentParser
import Foundation
import Imaging
import Training
import NeuralNet
import Torch

/// `contour demo`: an end-to-end proof of the engine — a small U-Net trained with Adam on
/// procedurally drawn noisy disks, then scored on held-out images. (The full demo, with the
/// trainer, datasets and report, replaces this when the Training layer lands.)
struct Demo: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train a small U-Net on drawn disks (CPU, under 2 minutes) and report held-out Dice.")

    @Option(help: "Training iterations.") var iterations = 160
    @Option(help: "Batch size.") var batchSize = 16
    @Option(help: "Image side in pixels.") var size = 64
    @Option(help: "Random seed (data and weights).") var seed: UInt64 = 0
    @Option(help: "Device: cpu, cuda, cuda:N or auto.") var device = "auto"
    @Option(help: "Intra-op CPU threads (default: libtorch's choice).") var threads: Int?
    @Option(help: "Folder for the model checkpoint and metrics.json.") var output = "demo-output"
    @Flag(help: "Only print the final result.") var quiet = false

    func run() throws {
        if let threads { try Torch.setThreads(threads) }
        let dev = try Device(parsing: device)
        try Torch.manualSeed(seed)
        var rng = SeededGenerator(seed: seed)
        let train = try DiskData(count: 256, size: size, rng: &rng)
        let test = try DiskData(count: 64, size: size, rng: &rng)

        let model = try TinyUNet(inChannels: 1, classes: 2, base: 16, levels: 3)
        try model.to(dev)
        let optimizer = try Adam(model.parameters(), learningRate: 3e-3)
        let schedule = LearningRateSchedule.poly(total: iterations)
        let progress = Progress(total: iterations, label: "train", quiet: quiet)
        let started = Date()
        var order = Array(0..<train.count)
        var cursor = order.count
        var losses: [Double] = []
        model.train()
        for it in 0..<iterations {
            if cursor + batchSize > order.count {
                order.shuffle(using: &rng)
                cursor = 0
            }
            let index = try Tensor(order[cursor..<(cursor + batchSize)].map(Int64.init))
            cursor += batchSize
            let x = try train.images.indexSelect(dim: 0, index: index).to(dev)
            let y = try train.labels.indexSelect(dim: 0, index: index).to(dev)
            optimizer.scaleLearningRate(by: schedule.factor(at: it))
            try optimizer.zeroGrad()
            let logits = try model(x)
            let loss = try logits.crossEntropy(target: y) + softDiceLoss(logits, y)
            try loss.backward()
            try optimizer.step()
            losses.append(try loss.item())
            progress.update(it + 1, String(format: "loss %.4f", losses.suffix(10).reduce(0, +) / Double(min(losses.count, 10))))
        }
        let trainSeconds = Date().timeIntervalSince(started)

        model.eval()
        let dice = try withoutGradients { () throws -> Double in
            let logits = try model(test.images.to(dev))
            let pred = try logits.argmax(dim: 1).eq(1)
            let truth = try test.labels.to(dev).eq(1)
            let inter = try pred.logicalAnd(truth).sum(dims: [1, 2]).to(.float64)
            let denom = try pred.sum(dims: [1, 2]).to(.float64) + truth.sum(dims: [1, 2]).to(.float64)
            return try (inter * 2 / denom).mean().item()
        }

        try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true)
        try model.save(to: "\(output)/model.safetensors", metadata: ["model": "TinyUNet", "seed": "\(seed)"])
        let summary: [String: Any] = [
            "dice": dice, "iterations": iterations, "train_seconds": trainSeconds,
            "final_loss": losses.last ?? .nan, "device": dev.description, "threads": Torch.threads,
        ]
        let json = try JSONSerialization.data(withJSONObject: summary, options: [.sortedKeys, .prettyPrinted])
        try AtomicFile.write(Array(json), to: "\(output)/metrics.json")
        print(String(format: "held-out Dice %.4f on %d images after %d iterations (%.1f s on %@, %d threads)",
                     dice, test.count, iterations, trainSeconds, dev.description, Torch.threads))
        print("wrote \(output)/model.safetensors and \(output)/metrics.json")
        if dice < 0.9 { throw ValidationError(String(format: "demo did not learn: Dice %.4f < 0.9", dice)) }
    }
}

/// 1 − soft Dice of the foreground channel over the batch.
func softDiceLoss(_ logits: Tensor, _ labels: Tensor) throws -> Tensor {
    let p = try logits.softmax(dim: 1).select(dim: 1, index: 1)
    let t = try labels.to(p.dtype)
    let inter = try (p * t).sum()
    let denom = try p.sum() + t.sum()
    return 1 - (inter * 2 + 1) / (denom + 1)
}

/// Noisy gray images with 1–3 bright disks and their label maps.
struct DiskData {
    let images: Tensor  // (N, 1, S, S) float32
    let labels: Tensor  // (N, S, S) int64
    let count: Int

    init(count: Int, size: Int, rng: inout SeededGenerator) throws {
        var pixels = [Float](repeating: 0, count: count * size * size)
        var mask = [Int64](repeating: 0, count: count * size * size)
        for n in 0..<count {
            let disks = Int.random(in: 1...3, using: &rng)
            var shapes: [(Double, Double, Double)] = []
            for _ in 0..<disks {
                let r = Double.random(in: 0.08...0.2, using: &rng) * Double(size)
                shapes.append((Double.random(in: r...(Double(size) - r), using: &rng),
                               Double.random(in: r...(Double(size) - r), using: &rng), r))
            }
            let contrast = Float.random(in: 0.4...0.8, using: &rng)
            for y in 0..<size {
                for x in 0..<size {
                    let inside = shapes.contains { (cy, cx, r) in
                        let dy = Double(y) + 0.5 - cy, dx = Double(x) + 0.5 - cx
                        return dy * dy + dx * dx <= r * r
                    }
                    let i = (n * size + y) * size + x
                    mask[i] = inside ? 1 : 0
                    pixels[i] = 0.2 + (inside ? contrast : 0) + Float(rng.gaussian()) * 0.2
                }
            }
        }
        images = try Tensor(pixels, shape: [count, 1, size, size])
        labels = try Tensor(mask, shape: [count, size, size])
        self.count = count
    }
}
