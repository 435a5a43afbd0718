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
        backward on 2×8×s³ + 2×6×s³ against the official PyTorch function (benchmarks/bab_reference.py, \
        run by --python) on the same tensors, interleaved; --losses '' runs that row alone.
        """)

    @Option(help: "Timed steps per objective (after the warm-up).") var steps = 5
    @Option(help: "Warm-up steps per objective.") var warmup = 2
    @Option(help: "Batch size.") var batch = 8
    @Option(help: "Image side.") var size = 256
    @Option(help: "Intra-op threads (default: libtorch's choice).") var threads: Int?
    @Option(help: "Comma-separated objectives; the first is the baseline. 'rrw-cached' is rrw with a map cache.")
    var losses = "cedice,scnp+cedice,tmcedice,scnp,rrw,rrw-cached"
    @Flag(help: "Add the BaBLoss row (vs the official PyTorch function).") var bab = false
    @Option(help: "BaBLoss row: volume side.") var babSize = 128
    @Option(help: "BaBLoss row: timed rounds (after one warm-up round).") var babRounds = 5
    @Option(help: "BaBLoss row: Python with torch, numpy and scipy (default .venv-bench/bin/python, else python3).")
    var python: String?
    @Flag(help: "Print JSON.") var json = false

    struct Arm {
        let label: String
        let objective: any Objective
        let cached: Bool
        var stepMs: [Double] = []
        var lossMs: [Double] = []
    }

    func run() throws {
        if let threads { try Torch.setThreads(threads) }
        guard steps >= 1, warmup >= 0, batch >= 1, size >= 16, size % 4 == 0 else {
            throw ValidationError("need steps ≥ 1, warmup ≥ 0, batch ≥ 1 and a size ≥ 16 divisible by 4")
        }
        guard !bab || (babSize >= 8 && babSize % 4 == 0 && babRounds >= 1) else {
            throw ValidationError("--bab-size must be ≥ 8 and divisible by 4, --bab-rounds ≥ 1")
        }
        var babRow: [String: Any]?
        if bab {
            babRow = try BaBBench(size: babSize, rounds: babRounds, warmup: 1, python: python).run()
            if losses.trimmingCharacters(in: .whitespaces).isEmpty { return printBaB(babRow!) }
        }
        var arms: [Arm] = try losses.split(separator: ",").map { raw in
            let label = raw.trimmingCharacters(in: .whitespaces)
            let cached = label.hasSuffix("-cached")
            let name = cached ? String(label.dropLast("-cached".count)) : label
            return Arm(label: label, objective: try ObjectiveRegistry.make(name), cached: cached)
        }
        guard !arms.isEmpty else { throw ValidationError("--losses is empty") }

        try Torch.manualSeed(0)
        let (images, labels) = try syntheticBatch()
        let plain = try LossTarget(labels: labels)
        var cachedTarget = plain
        cachedTarget.caseIDs = (0..<batch).map { "case\($0)" }
        cachedTarget.cache = RegionMapCache()
        let model = try TinyUNet(inChannels: 1, classes: 2, base: 16, levels: 3)
        let optimizer = try Adam(model.parameters(), learningRate: 1e-3)
        let fixedLogits = try withoutGradients { try model(images) }

        func ms(_ t0: UInt64) -> Double { Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6 }
        for step in 0..<(warmup + steps) {
            for i in arms.indices {
                let target = arms[i].cached ? cachedTarget : plain
                // Full training step.
                var t0 = DispatchTime.now().uptimeNanoseconds
                try optimizer.zeroGrad()
                let loss = try arms[i].objective(logits: model(images), target: target)
                try loss.backward()
                try optimizer.step()
                _ = try loss.item()
                let stepTime = ms(t0)
                // The objective alone: loss and its backward on fixed logits.
                let leaf = try fixedLogits.clone().requiringGrad()
                t0 = DispatchTime.now().uptimeNanoseconds
                let l = try arms[i].objective(logits: leaf, target: target)
                _ = try gradients(of: l, with: [leaf])
                let lossTime = ms(t0)
                if step >= warmup {
                    arms[i].stepMs.append(stepTime)
                    arms[i].lossMs.append(lossTime)
                }
            }
        }

        let base = median(arms[0].stepMs)
        let rows: [[String: Any]] = arms.map { a in
            let s = median(a.stepMs)
            return ["objective": a.label, "step_ms": s, "loss_ms": median(a.lossMs),
                    "step_overhead_pct": (s / base - 1) * 100,
                    "loss_share_of_baseline_step_pct": median(a.lossMs) / base * 100]
        }
        if json {
            let o: [String: Any] = ["threads": Torch.threads, "batch": batch, "size": size, "steps": steps,
                                    "model": "TinyUNet(base 16, 3 levels)", "baseline": arms[0].label, "rows": rows,
                                    "bab": babRow.map { $0 as Any } ?? NSNull()]
            let data = try JSONSerialization.data(withJSONObject: o, options: [.sortedKeys, .prettyPrinted])
            print(String(decoding: data, as: UTF8.self))
            return
        }
        print("TinyUNet fwd+loss+bwd+Adam, batch \(batch) × 1 × \(size)², CPU, \(Torch.threads) threads, median of \(steps) steps")
        print("objective".padding(toLength: 14, withPad: " ", startingAt: 0) + "  step ms  vs \(arms[0].label)   loss fwd+bwd ms")
        for r in rows {
            print(String(format: "%@ %8.1f  %+7.2f %%   %8.2f",
                         (r["objective"] as! String).padding(toLength: 14, withPad: " ", startingAt: 0),
                         r["step_ms"] as! Double, r["step_overhead_pct"] as! Double, r["loss_ms"] as! Double))
        }
        if let babRow { printBaB(babRow) }
    }

    func printBaB(_ r: [String: Any]) {
        if json {
            if let data = try? JSONSerialization.data(withJSONObject: ["bab": r], options: [.sortedKeys, .prettyPrinted]) {
                print(String(decoding: data, as: UTF8.self))
            }
            return
        }
        let ci = r["ratio_ci95"] as? [Double] ?? [.nan, .nan]
        print(String(format: "BaBLoss fwd+bwd %@ + %@, %d threads: contour %.0f ms, official PyTorch %.0f ms, ratio %.3f (95%% CI %.3f–%.3f, %d rounds); losses %.6f vs %.6f%@",
                     (r["shape_segmentation"] as? [Int] ?? []).map(String.init).joined(separator: "×"),
                     (r["shape_heatmaps"] as? [Int] ?? []).map(String.init).joined(separator: "×"), Torch.threads,
                     r["contour_ms"] as? Double ?? .nan, r["official_ms"] as? Double ?? .nan, r["ratio"] as? Double ?? .nan,
                     ci[0], ci[1], r["rounds"] as? Int ?? 0, r["loss_contour"] as? Double ?? .nan, r["loss_official"] as? Double ?? .nan,
                     (r["agree"] as? Bool ?? false) ? "" : " — DIFFER"))
    }

    /// Images with a few discs and bars (labels 0/1) plus noise: structured labels so that the
    /// distance maps do real work.
    func syntheticBatch() throws -> (Tensor, Tensor) {
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
