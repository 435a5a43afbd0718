import Foundation
import XCTest
import Imaging
import NeuralNet
@testable import Objectives
import Torch
@testable import Training

/// The HadBalance balancers and baselines inside training: the update they write, the
/// weights a step reports, and exact resumption with `every`.
final class GradientBalancerTrainingTests: XCTestCase {
    var dir: String!

    override func setUpWithError() throws {
        dir = NSTemporaryDirectory() + "contour-balancers-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: dir) }

    func config(_ yaml: String, output: String) throws -> ExperimentConfig {
        let data = "\(dir!)/data"
        if !FileManager.default.fileExists(atPath: "\(data)/dataset.json") {
            try DemoData.write(kind: .tubular, to: data, trainCount: 4, testCount: 0, seed: 3)
        }
        return try ExperimentConfig.load(yaml: """
        data: {dataset: \(data), patchSize: [32, 32], batchSize: 2, workers: 1, preset: none}
        model: {name: unet2d, options: {stages: 3, baseWidth: 4}}
        optimizer: {name: adam, learningRate: 0.01, weightDecay: 0}
        run: {epochs: 2, iterationsPerEpoch: 2, validationInterval: 1, seed: 5, threads: 1, output: \(output)}
        objectives: [ce, dice]
        \(yaml)
        """, name: "test")
    }

    /// One step per balancer: the `.grad` written is the balancer's own combination of the
    /// per-objective gradients, and the step reports its weights.
    func testEachBalancerWritesItsDirectionAndReportsWeights() throws {
        for name in ["pgp", "agb", "caob", "fairgrad", "nash-mtl", "mgda"] {
            let trainer = try Trainer(config: try config("balancer: \(name)", output: "\(dir!)/\(name)"), quiet: true)
            let s = trainer.sessions[0]
            let ctx = s.context
            let batch = try XCTUnwrap(try s.loader.batches(epoch: 0, startingAt: 0).next())
            func losses() throws -> [Tensor] { try ctx.losses(try ctx.forward(try ctx.inputs(batch)), try ctx.targets(batch)) }
            // A fresh forward per objective (the step's graph is freed after each gradient).
            let flat = try (0..<2).map { k in
                let l = try losses()[k]
                return try Tensor.cat(try gradients(of: l, with: ctx.parameters, allowUnused: true).enumerated().map { i, g in
                    try (g ?? Tensor.zeros(like: ctx.parameters[i])).reshape([-1])
                })
            }
            let expected = try BalancerRegistry.make(name).combine(flat, losses: [0, 0]).to(.float64)
            try s.optimizer.zeroGrad()
            let outcome = try ctx.apply(try losses())
            XCTAssertTrue(outcome.applied, name)
            let weights = try XCTUnwrap(outcome.weights, name)
            XCTAssertEqual(weights.count, 2, name)
            XCTAssertTrue(weights.allSatisfy { $0.isFinite && $0 >= 0 }, "\(name): \(weights)")
            let written = try Tensor.cat(try ctx.parameters.map { try XCTUnwrap($0.grad).reshape([-1]).to(.float64) })
            let scale = try expected.abs().max().item()
            XCTAssertLessThan(try written.subtracting(expected).abs().max().item(), 1e-4 * Swift.max(scale, 1e-8), name)
        }
    }

    /// `every: 2`: step 0 decides from per-objective gradients; step 1 runs ONE backward whose
    /// `.grad` equals the stored linear coefficients applied to gradients computed separately.
    func testReuseStepIsOneBackwardOfTheStoredCombination() throws {
        for name in ["caob", "pgp", "agb", "nash-mtl"] {
            let trainer = try Trainer(config: try config("balancer: {name: \(name), options: {every: 2}}", output: "\(dir!)/\(name)"), quiet: true)
            let s = trainer.sessions[0]
            let ctx = s.context
            var batches = try s.loader.batches(epoch: 0, startingAt: 0)
            let first = try XCTUnwrap(try batches.next()), second = try XCTUnwrap(try batches.next())
            func losses(_ b: Batch) throws -> [Tensor] { try ctx.losses(try ctx.forward(try ctx.inputs(b)), try ctx.targets(b)) }
            try s.optimizer.zeroGrad()
            _ = try ctx.apply(try losses(first))
            let decided = try XCTUnwrap(ctx.balancer.lastWeights, name)
            let c = try XCTUnwrap((ctx.balancer as? CAOB)?.schedule.stored?.coefficients
                                  ?? (ctx.balancer as? PGP)?.schedule.stored?.coefficients
                                  ?? (ctx.balancer as? AGB)?.schedule.stored?.coefficients
                                  ?? (ctx.balancer as? NashMTL)?.schedule.stored?.coefficients, name)
            var expected: Tensor?
            for k in 0..<2 {
                let g = try Tensor.cat(try gradients(of: losses(second)[k], with: ctx.parameters, allowUnused: true).enumerated().map { i, g in
                    try (g ?? Tensor.zeros(like: ctx.parameters[i])).reshape([-1]).to(.float64)
                })
                expected = try expected.map { try $0.adding(g * c[k]) } ?? g * c[k]
            }
            try s.optimizer.zeroGrad()
            let outcome = try ctx.apply(try losses(second))
            XCTAssertEqual(outcome.weights, decided, "\(name): a reuse step reports the deciding step's weights")
            // A parameter no objective reaches gets no gradient (as PyTorch's backward leaves it None).
            XCTAssertTrue(ctx.parameters.contains { $0.grad != nil }, name)
            let written = try Tensor.cat(try ctx.parameters.map { try ($0.grad ?? Tensor.zeros(like: $0)).reshape([-1]).to(.float64) })
            let scale = try XCTUnwrap(expected).abs().max().item()
            XCTAssertLessThan(try written.subtracting(XCTUnwrap(expected)).abs().max().item(), 1e-4 * Swift.max(scale, 1e-8), name)
            XCTAssertNil(ctx.balancer.reusedCoefficients(objectives: 2), "\(name): step 2 decides afresh")
        }
    }

    func testCAOBWithEveryResumesExactly() throws {
        let yaml = "balancer: {name: caob, options: {every: 3}}"
        let straight = "\(dir!)/straight", split = "\(dir!)/split"
        _ = try Trainer(config: try config(yaml, output: straight), quiet: true).train()
        _ = try Trainer(config: try config(yaml, output: split), quiet: true).train(untilEpoch: 1)
        let saved = try CheckpointStore.readState("\(split)/checkpoints/latest")
        XCTAssertNotNil(saved.balancer?["coefficients"], "the stored coefficients are checkpointed")
        _ = try Trainer(config: try ExperimentConfig.load(path: "\(split)/config.yaml"), quiet: true).train(resume: true)
        let x = try Safetensors.load("\(straight)/checkpoints/latest/model.safetensors")
        let y = try Safetensors.load("\(split)/checkpoints/latest/model.safetensors")
        for ((name, a), (_, b)) in zip(x.tensors, y.tensors) {
            XCTAssertEqual(try a.rawBytes(), try b.rawBytes(), "\(name) differs after resume")
        }
    }
}
