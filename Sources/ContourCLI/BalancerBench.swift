import ArgumentParser
import Foundation
import Models
import NeuralNet
import Objectives
import Torch
import Training

/// `contour bench balancers`: the step time of a U-Net trained on the primary loss and the
/// three Hadwiger priors under each balancer, relative to `sum`, with the arms interleaved
/// step by step so machine drift hits them alike. Every arm runs Contour's own training step
/// (`StepContext.apply`) and an Adam update on the same model and batch.
struct BalancerBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "balancers",
        abstract: "Step time of a UNet with 4 objectives under sum, caob, caob every:4, nash-mtl (ratios to sum, same run).",
        discussion: """
        'fwd+4bwd' is the floor of any per-objective-gradient balancer: one forward, the four \
        losses and one backward per loss (accumulated into .grad, no balancing), then Adam. \
        Goals: caob ≤ 1.1 × fwd+4bwd, caob every:4 ≤ 1.6 × sum. The last table times the \
        losses alone (forward+backward on fixed logits): the three priors vs the primary.
        """)

    @Option(help: "Timed rounds (each runs every arm once, after the warm-up).") var rounds = 10
    @Option(help: "Warm-up rounds.") var warmup = 2
    @Option(help: "Batch size.") var batch = 4
    @Option(help: "Image side.") var size = 128
    @Option(help: "U-Net stages.") var stages = 4
    @Option(help: "U-Net base width.") var width = 16
    @Option(help: "Intra-op threads (default: libtorch's choice).") var threads: Int?
    @Option(help: "Primary objective.") var primary = "cedice"
    @Flag(help: "Print JSON.") var json = false

    struct Arm {
        let label: String
        let balancer: (any Balancer)?   // nil: the fwd+4bwd floor
        var ms: [Double] = []
    }

    func run() throws {
        if let threads { try Torch.setThreads(threads) }
        guard rounds >= 2, warmup >= 0, batch >= 1, size >= 32, size % (1 << (stages - 1)) == 0 else {
            throw ValidationError("need rounds ≥ 2, warmup ≥ 0, batch ≥ 1 and a size ≥ 32 divisible by 2^(stages−1)")
        }
        try Torch.manualSeed(0)
        let model = try ModelRegistry.make("unet2d", options: Options(["stages": .number(Double(stages)), "baseWidth": .number(Double(width))], for: "model"),
                                           context: ModelContext(inChannels: 1, classes: 2))
        model.train()
        let names = [primary, "hadwiger-area", "hadwiger-perimeter", "hadwiger-euler"]
        let objective = try CompositeObjective(terms: names.map { .init(weight: 1, objective: try ObjectiveRegistry.make($0)) })
        let (images, labels) = try syntheticBatch()
        let targets = try Targets(labels: labels, classes: 2)
        let parameters = model.trainableParameters()
        let optimizer = try Adam(parameters, learningRate: 1e-4)

        var arms = [Arm(label: "sum", balancer: SumBalancer()), Arm(label: "fwd+4bwd", balancer: nil),
                    Arm(label: "caob", balancer: try BalancerRegistry.make("caob")),
                    Arm(label: "caob every:4", balancer: try BalancerRegistry.make("caob", options: ["every": .number(4)])),
                    Arm(label: "nash-mtl", balancer: try BalancerRegistry.make("nash-mtl"))]
        let contexts: [StepContext?] = arms.map { a in
            a.balancer.map { StepContext(model: model, objective: objective, balancer: $0, device: .cpu, parameters: parameters,
                                         foregroundClasses: [1]) }
        }

        func ms(_ t0: UInt64) -> Double { Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6 }
        let progress = Progress(total: warmup + rounds, label: "bench balancers", quiet: json)
        for round in 0..<(warmup + rounds) {
            for i in arms.indices {
                let t0 = DispatchTime.now().uptimeNanoseconds
                try optimizer.zeroGrad()
                let heads = try model.heads(images)
                let losses = try objective.values(heads: heads, targets: targets)
                if let context = contexts[i] {
                    _ = try context.apply(losses)
                } else {
                    for (k, l) in losses.enumerated() where l.requiresGrad { try l.backward(retainGraph: k < losses.count - 1) }
                }
                try optimizer.step()
                if round >= warmup { arms[i].ms.append(ms(t0)) }
            }
            progress.update(round + 1, round < warmup ? "warm-up" : "round \(round - warmup + 1)/\(rounds)")
        }

        // The losses alone, on fixed logits: the primary vs the three priors together.
        let fixed = try withoutGradients { try model.heads(images) }
        func lossTime(_ terms: [String]) throws -> [Double] {
            let o = try CompositeObjective(terms: terms.map { .init(weight: 1, objective: try ObjectiveRegistry.make($0)) })
            var out: [Double] = []
            for round in 0..<(warmup + rounds) {
                let leaf = try fixed.require(Heads.segmentation, by: "bench").clone().requiringGrad()
                let h = Heads(Heads.segmentation, levels: [leaf])
                let t0 = DispatchTime.now().uptimeNanoseconds
                _ = try gradients(of: o.loss(heads: h, targets: targets), with: [leaf])
                if round >= warmup { out.append(ms(t0)) }
            }
            return out
        }
        let primaryLoss = try lossTime([primary]), priorsLoss = try lossTime(Array(names.dropFirst()))

        let floor = arms[1].ms
        let rows: [[String: Any]] = arms.map { a in
            let vsSum = RatioInterval(a.ms, arms[0].ms), vsFloor = RatioInterval(a.ms, floor)
            return ["arm": a.label, "median_ms": median(a.ms), "ratio_to_sum": vsSum.mean, "ratio_to_sum_ci95": [vsSum.low, vsSum.high],
                    "ratio_to_fwd4bwd": vsFloor.mean, "ratio_to_fwd4bwd_ci95": [vsFloor.low, vsFloor.high]]
        }
        let loss = RatioInterval(priorsLoss, primaryLoss)
        let setup = "unet2d(stages \(stages), width \(width)) batch \(batch) × 1 × \(size)², objectives \(names.joined(separator: " + ")), "
            + "CPU \(Torch.threads) threads, \(rounds) interleaved rounds"
        if json {
            let o: [String: Any] = ["setup": setup, "rows": rows,
                                    "loss_ms": ["primary": median(primaryLoss), "hadwiger_priors": median(priorsLoss)],
                                    "priors_to_primary": loss.mean, "priors_to_primary_ci95": [loss.low, loss.high]]
            print(String(decoding: try JSONSerialization.data(withJSONObject: o, options: [.sortedKeys, .prettyPrinted]), as: UTF8.self))
            return
        }
        print(setup)
        print("arm            median ms   × sum (95 % CI)          × fwd+4bwd (95 % CI)")
        for r in rows {
            let s = r["ratio_to_sum_ci95"] as! [Double], f = r["ratio_to_fwd4bwd_ci95"] as! [Double]
            print(String(format: "%@ %9.1f   %5.2f (%4.2f–%4.2f)       %5.2f (%4.2f–%4.2f)",
                         (r["arm"] as! String).padding(toLength: 14, withPad: " ", startingAt: 0), r["median_ms"] as! Double,
                         r["ratio_to_sum"] as! Double, s[0], s[1], r["ratio_to_fwd4bwd"] as! Double, f[0], f[1]))
        }
        print(String(format: "losses alone (fwd+bwd on fixed logits): %@ %.1f ms, three Hadwiger priors %.1f ms = %.2f × (%.2f–%.2f)",
                     primary, median(primaryLoss), median(priorsLoss), loss.mean, loss.low, loss.high))
    }

    /// Images with ellipses and a ring (labels 0/1) plus noise, so the priors see real shapes.
    func syntheticBatch() throws -> (Tensor, Tensor) {
        var lab = [Int64](repeating: 0, count: batch * size * size)
        let s = Double(size)
        for b in 0..<batch {
            let cx = s * (0.3 + 0.1 * Double(b % 3)), cy = s * 0.35
            for y in 0..<size { for x in 0..<size {
                let dx = Double(x) - cx, dy = Double(y) - cy
                let ellipse = dx * dx / (0.15 * s * 0.15 * s) + dy * dy / (0.1 * s * 0.1 * s) <= 1
                let r = ((Double(x) - 0.65 * s) * (Double(x) - 0.65 * s) + (Double(y) - 0.7 * s) * (Double(y) - 0.7 * s)).squareRoot()
                if ellipse || (r > 0.12 * s && r < 0.18 * s) { lab[(b * size + y) * size + x] = 1 }
            } }
        }
        let labels = try Tensor(lab, shape: [batch, 1, size, size])
        let images = try labels.to(.float32) + Tensor.randn([batch, 1, size, size]) * 0.5
        return (images, labels)
    }
}
