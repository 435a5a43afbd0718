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

    @Option(help: "Timed interleaved rounds (each runs every arm once in a seeded random order).") var rounds = 10
    @Option(help: "Warm-up rounds.") var warmup = 2
    @Option(help: "Batch size.") var batch = 4
    @Option(help: "Image side.") var size = 128
    @Option(help: "U-Net stages.") var stages = 4
    @Option(help: "U-Net base width.") var width = 16
    @Option(help: "Intra-op threads (default: libtorch's choice).") var threads: Int?
    @Option(help: "Primary objective.") var primary = "cedice"
    @Flag(help: "Small sizes (the `bench all` set: batch 2, 64², 3 stages).") var quick = false
    @Flag(help: "Print JSON (an array of rows, the schema of every bench).") var json = false

    struct Arm {
        let label: String
        let balancer: (any Balancer)?   // nil: the fwd+4bwd floor
    }

    func run() throws {
        try BenchRecord.emit(try measure(), json: json)
    }

    func measure() throws -> [BenchRecord] {
        if let threads { try Torch.setThreads(threads) }
        let (batch, size, stages) = quick ? (2, 64, 3) : (self.batch, self.size, self.stages)
        guard batch >= 1, size >= 32, size % (1 << (stages - 1)) == 0 else {
            throw ValidationError("need batch ≥ 1 and a size ≥ 32 divisible by 2^(stages−1)")
        }
        let method = try BenchMethod(warmup: warmup, rounds: rounds)
        try Torch.manualSeed(0)
        let model = try ModelRegistry.make("unet2d", options: Options(["stages": .number(Double(stages)), "baseWidth": .number(Double(width))], for: "model"),
                                           context: ModelContext(inChannels: 1, classes: 2))
        model.train()
        let names = [primary, "hadwiger-area", "hadwiger-perimeter", "hadwiger-euler"]
        let objective = try CompositeObjective(terms: names.map { .init(weight: 1, objective: try ObjectiveRegistry.make($0)) })
        let (images, labels) = try syntheticBatch(batch: batch, size: size)
        let targets = try Targets(labels: labels, classes: 2)
        let parameters = model.trainableParameters()
        let optimizer = try Adam(parameters, learningRate: 1e-4)

        let arms = [Arm(label: "sum", balancer: SumBalancer()), Arm(label: "fwd+4bwd", balancer: nil),
                    Arm(label: "caob", balancer: try BalancerRegistry.make("caob")),
                    Arm(label: "caob every:4", balancer: try BalancerRegistry.make("caob", options: ["every": .number(4)])),
                    Arm(label: "nash-mtl", balancer: try BalancerRegistry.make("nash-mtl"))]
        var bodies: [() throws -> Double] = arms.map { a in
            let context = a.balancer.map { StepContext(model: model, objective: objective, balancer: $0, device: .cpu, parameters: parameters,
                                                       foregroundClasses: [1]) }
            return {
                try BenchMethod.milliseconds {
                    try optimizer.zeroGrad()
                    let heads = try model.heads(images)
                    let losses = try objective.values(heads: heads, targets: targets)
                    if let context {
                        _ = try context.apply(losses)
                    } else {
                        for (k, l) in losses.enumerated() where l.requiresGrad { try l.backward(retainGraph: k < losses.count - 1) }
                    }
                    try optimizer.step()
                }
            }
        }
        // The losses alone, on fixed logits: the primary vs the three priors together.
        let fixed = try withoutGradients { try model.heads(images) }
        for terms in [[primary], Array(names.dropFirst())] {
            let o = try CompositeObjective(terms: terms.map { .init(weight: 1, objective: try ObjectiveRegistry.make($0)) })
            bodies.append {
                let leaf = try fixed.require(Heads.segmentation, by: "bench").clone().requiringGrad()
                let h = Heads(Heads.segmentation, levels: [leaf])
                return try BenchMethod.milliseconds { _ = try gradients(of: o.loss(heads: h, targets: targets), with: [leaf]) }
            }
        }
        let progress = Progress(total: method.warmup + method.rounds, label: "bench balancers", quiet: json)
        let samples = try method.run(bodies) { done, _ in progress.update(done, "round \(done)") }

        let shape = "unet2d(\(stages) stages, width \(width)) batch \(batch) × 1 × \(size)²"
        var records: [BenchRecord] = []
        for (i, a) in arms.enumerated() where i > 0 {
            records.append(method.record(bench: "balancers", name: "\(a.label) / sum", size: shape, contour: samples[i], reference: samples[0],
                                         referenceName: "Contour step with the sum balancer (\(names.joined(separator: " + ")))",
                                         threads: Torch.threads))
        }
        for (i, a) in arms.enumerated() where i > 1 {
            records.append(method.record(bench: "balancers", name: "\(a.label) / fwd+4bwd", size: shape, contour: samples[i], reference: samples[1],
                                         referenceName: "Contour step, forward + 4 backwards (the floor)", threads: Torch.threads))
        }
        records.append(method.record(bench: "balancers", name: "Hadwiger priors / \(primary)", size: shape, contour: samples[arms.count + 1],
                                     reference: samples[arms.count], referenceName: "\(primary) loss fwd+bwd on fixed logits",
                                     threads: Torch.threads))
        return records
    }

    /// Images with ellipses and a ring (labels 0/1) plus noise, so the priors see real shapes.
    func syntheticBatch(batch: Int, size: Int) throws -> (Tensor, Tensor) {
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
