import ArgumentParser
import Foundation
import NeuralNet
import Objectives
import Torch

/// `contour bench objectives`: what SCNP and region-wise maps add to a training step
/// (TinyUNet forward + loss + backward + Adam, CPU) over CE+Dice, measured in one run with the
/// objectives interleaved step by step so that machine drift hits all of them alike.
struct ObjectivesBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "objectives",
        abstract: "Step-time overhead of SCNP and RRW vs CE+Dice on a UNet training step (same run).",
        discussion: """
        The paper reports +2.7 % epoch time for SCNP; the goal here is ≤ 2 % of a step. 'rrw' \
        computes its maps from the labels every step (augmented data); 'rrw-cached' reuses them \
        per case (unaugmented data). The tubular-data comparison needs the demo data and the \
        trainer and is not part of this command. --bab adds the BaBLoss row: BaB(S, L) forward + \
        backward on 2×8×s³ + 2×6×s³ against the official PyTorch function (in benchmarks/bench_worker.py, \
        run by --python) on the same tensors, interleaved; --losses '' runs that row alone.
        """)

    @Option(help: "Timed interleaved rounds (each runs every objective once).") var rounds = 10
    @Option(help: "Untimed warm-up rounds.") var warmup = 2
    @Option(help: "Batch size.") var batch = 8
    @Option(help: "Image side.") var size = 256
    @Option(help: "Intra-op threads (default: libtorch's choice).") var threads: Int?
    @Option(help: "Comma-separated objectives; the first is the baseline. 'rrw-cached' is rrw with a map cache.")
    var losses = "cedice,scnp+cedice,tmcedice,scnp,rrw,rrw-cached"
    @Flag(help: "Add the BaBLoss row (vs the official PyTorch function).") var bab = false
    @Option(help: "BaBLoss row: volume side.") var babSize = 128
    @Option(help: "BaBLoss row: Python with torch, numpy and scipy (default .venv-bench/bin/python, else python3).")
    var python: String?
    @Flag(help: "Small sizes (the `bench all` set: batch 2, 64², BaB side 32).") var quick = false
    @Flag(help: "Print JSON (an array of rows, the schema of every bench).") var json = false

    struct Arm {
        let label: String
        let objective: any Objective
        let cached: Bool
    }

    func run() throws {
        try BenchRecord.emit(try measure(), json: json)
    }

    func measure() throws -> [BenchRecord] {
        if let threads { try Torch.setThreads(threads) }
        let (batch, size, babSize) = quick ? (2, 64, 32) : (self.batch, self.size, self.babSize)
        guard batch >= 1, size >= 16, size % 4 == 0 else {
            throw ValidationError("need batch ≥ 1 and a size ≥ 16 divisible by 4")
        }
        guard !bab || (babSize >= 8 && babSize % 4 == 0) else { throw ValidationError("--bab-size must be ≥ 8 and divisible by 4") }
        let method = try BenchMethod(warmup: warmup, rounds: rounds)
        var records: [BenchRecord] = []
        if bab { records.append(try BaBBench(size: babSize, method: method, python: python).run()) }
        let arms: [Arm] = try losses.split(separator: ",").map { raw in
            let label = raw.trimmingCharacters(in: .whitespaces)
            let cached = label.hasSuffix("-cached")
            let name = cached ? String(label.dropLast("-cached".count)) : label
            return Arm(label: label, objective: try ObjectiveRegistry.make(name), cached: cached)
        }
        guard !arms.isEmpty else { return records }

        try Torch.manualSeed(0)
        let (images, labels) = try syntheticBatch(batch: batch, size: size)
        let plain = try LossTarget(labels: labels)
        var cachedTarget = plain
        cachedTarget.caseIDs = (0..<batch).map { "case\($0)" }
        cachedTarget.cache = RegionMapCache()
        let model = try TinyUNet(inChannels: 1, classes: 2, base: 16, levels: 3)
        let optimizer = try Adam(model.parameters(), learningRate: 1e-3)
        let fixedLogits = try withoutGradients { try model(images) }

        // Per objective two arms: the full training step, and the loss + its backward on fixed logits.
        var bodies: [() throws -> Double] = []
        for arm in arms {
            let target = arm.cached ? cachedTarget : plain
            bodies.append {
                try BenchMethod.milliseconds {
                    try optimizer.zeroGrad()
                    let loss = try arm.objective(logits: model(images), target: target)
                    try loss.backward()
                    try optimizer.step()
                    _ = try loss.item()
                }
            }
            bodies.append {
                let leaf = try fixedLogits.clone().requiringGrad()
                return try BenchMethod.milliseconds { _ = try gradients(of: try arm.objective(logits: leaf, target: target), with: [leaf]) }
            }
        }
        let samples = try method.run(bodies)
        let shape = "batch \(batch) × 1 × \(size)²"
        for (k, arm) in arms.enumerated() {
            records.append(method.record(bench: "objectives", name: "step \(arm.label)", size: shape, contour: samples[2 * k],
                                         reference: k == 0 ? nil : samples[0], referenceName: "Contour step with \(arms[0].label) (TinyUNet, Adam)",
                                         threads: Torch.threads, note: k == 0 ? "the baseline" : nil))
            records.append(method.record(bench: "objectives", name: "loss \(arm.label)", size: shape, contour: samples[2 * k + 1],
                                         reference: samples[0], referenceName: "Contour step with \(arms[0].label): loss share of a step",
                                         threads: Torch.threads))
        }
        return records
    }

    /// Images with a few discs and bars (labels 0/1) plus noise: structured labels so that the
    /// distance maps do real work.
    func syntheticBatch(batch: Int, size: Int) throws -> (Tensor, Tensor) {
        var rng = SystemRandomNumberGenerator()
        var lab = [Int64](repeating: 0, count: batch * size * size)
        for b in 0..<batch {
            for _ in 0..<4 {
                let cy = Double.random(in: 0..<Double(size), using: &rng), cx = Double.random(in: 0..<Double(size), using: &rng)
                let r = Double.random(in: 0.03...0.12, using: &rng) * Double(size)
                for y in 0..<size { for x in 0..<size {
                    let dy = Double(y) - cy, dx = Double(x) - cx
                    if dy * dy + dx * dx <= r * r { lab[(b * size + y) * size + x] = 1 }
                } }
            }
            let row = Int.random(in: 0..<size, using: &rng)
            for x in 0..<size { for y in max(0, row - 1)...min(size - 1, row + 1) { lab[(b * size + y) * size + x] = 1 } }
        }
        let labels = try Tensor(lab, shape: [batch, 1, size, size])
        let images = try labels.to(.float32) + Tensor.randn([batch, 1, size, size]) * 0.5
        return (images, labels)
    }
}
