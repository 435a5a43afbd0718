import Foundation
import XCTest
@testable import NeuralNet
import Torch

final class OptimizerTests: XCTestCase {
    let w0: [Double] = [0.5, -1.0, 2.0, -0.3, 0.8, -1.5]
    let c: [Double] = [0.1, -0.2, 0.3, 0.4, -0.5, 0.6]

    /// Five steps on Σw³/3 + Σw·c (gradient w² + c), compared with PyTorch's trajectory.
    func trajectory(_ make: ([Tensor]) throws -> Optimizer) throws -> [Double] {
        let w = try Tensor(w0, shape: [2, 3]).requiringGrad()
        let cT = try Tensor(c, shape: [2, 3])
        let opt = try make([w])
        for _ in 0..<5 {
            try opt.zeroGrad()
            try ((w * w * w).sum() / 3 + (w * cT).sum()).backward()
            try opt.step()
        }
        return try w.doubles()
    }

    func check(_ name: String, _ make: ([Tensor]) throws -> Optimizer, file: StaticString = #filePath, line: UInt = #line) throws {
        let expected = try Tensor.loadNPY(try fixturePath("opt_\(name).npy")).doubles()
        let got = try trajectory(make)
        for (g, e) in zip(got, expected) { XCTAssertEqual(g, e, accuracy: 1e-12, name, file: file, line: line) }
    }

    func testOptimisersMatchPyTorch() throws {
        try check("sgd") { try SGD($0, learningRate: 0.1) }
        try check("sgd_momentum_dampening_wd") { try SGD($0, learningRate: 0.05, momentum: 0.9, dampening: 0.1, weightDecay: 0.01) }
        try check("sgd_nesterov") { try SGD($0, learningRate: 0.01, momentum: 0.99, nesterov: true, weightDecay: 3e-5) }
        try check("adam") { try Adam($0, learningRate: 0.1) }
        try check("adam_wd_amsgrad") { try Adam($0, learningRate: 0.05, weightDecay: 0.1, amsgrad: true) }
        try check("adamw") { try AdamW($0, learningRate: 0.1, betas: (0.8, 0.9), weightDecay: 0.05) }
    }

    func testStateSaveLoadContinuesExactly() throws {
        // 5 steps straight vs 2 steps, save state, new optimiser, load, 3 steps.
        let straight = try trajectory { try Adam($0, learningRate: 0.1, amsgrad: true) }
        let w = try Tensor(w0, shape: [2, 3]).requiringGrad()
        let cT = try Tensor(c, shape: [2, 3])
        func run(_ opt: Optimizer, _ n: Int) throws {
            for _ in 0..<n {
                try opt.zeroGrad()
                try ((w * w * w).sum() / 3 + (w * cT).sum()).backward()
                try opt.step()
            }
        }
        let first = try Adam([w], learningRate: 0.1, amsgrad: true)
        try run(first, 2)
        var saved: [String: Tensor] = [:]
        for (k, t) in try first.stateTensors() { saved[k] = t }
        XCTAssertEqual(Set(saved.keys), ["0.0.step", "0.0.exp_avg", "0.0.exp_avg_sq", "0.0.max_exp_avg_sq"])
        let second = try Adam([w], learningRate: 0.1, amsgrad: true)
        try second.loadStateTensors(saved)
        try run(second, 3)
        XCTAssertEqual(try w.doubles(), straight)
        XCTAssertThrowsError(try second.loadStateTensors(["0.5.exp_avg": try Tensor.zeros([2, 3])]))
    }

    func testParameterGroupsAndSchedules() throws {
        let a = try Tensor([1] as [Double]).requiringGrad(), b = try Tensor([1] as [Double]).requiringGrad()
        let opt = try SGD([ParameterGroup([a], learningRate: 0.1), ParameterGroup([b], learningRate: 0.01)])
        try (a + b).sum().backward()
        opt.scaleLearningRate(by: 0.5)
        try opt.step()
        XCTAssertEqual(try a.item(), 0.95, accuracy: 1e-15)
        XCTAssertEqual(try b.item(), 0.995, accuracy: 1e-15)
        XCTAssertThrowsError(try SGD([a], learningRate: -1))
        XCTAssertThrowsError(try SGD([a], learningRate: 0.1, nesterov: true))

        // nnU-Net poly: 0.01 · (1 − 500/1000)^0.9
        XCTAssertEqual(LearningRateSchedule.poly(total: 1000).factor(at: 500), Foundation.pow(0.5, 0.9), accuracy: 1e-15)
        XCTAssertEqual(LearningRateSchedule.poly(total: 1000).factor(at: 1000), 0)
        XCTAssertEqual(LearningRateSchedule.cosine(total: 10).factor(at: 5), 0.5, accuracy: 1e-15)
        XCTAssertEqual(LearningRateSchedule.cosine(total: 10, minFactor: 0.1).factor(at: 10), 0.1, accuracy: 1e-15)
        XCTAssertEqual(LearningRateSchedule.step(every: 3, gamma: 0.5).factor(at: 7), 0.25)
        let warm = LearningRateSchedule.warmup(steps: 4, then: .poly(total: 10, exponent: 1))
        XCTAssertEqual(warm.factor(at: 0), 0)
        XCTAssertEqual(warm.factor(at: 2), 0.5)
        XCTAssertEqual(warm.factor(at: 9), 0.5, accuracy: 1e-15)
        XCTAssertEqual(try LearningRateSchedule.named("poly", total: 100), .poly(total: 100))
        XCTAssertThrowsError(try LearningRateSchedule.named("exponential", total: 10)) {
            XCTAssertTrue("\($0)".contains("exponential"))
        }
    }

    func testGradientNormClipping() throws {
        let a = try Tensor([0, 0] as [Double]).requiringGrad(), b = try Tensor([0] as [Double]).requiringGrad()
        try (a * (try Tensor([3, 0] as [Double])) + (b * 4).sum()).sum().backward()  // grads [3, 0], [8]
        let norm = try clipGradientNorm([a, b], maxNorm: 1)
        XCTAssertEqual(norm, (9.0 + 64).squareRoot(), accuracy: 1e-12)
        let clipped = try a.grad!.doubles() + b.grad!.doubles()
        let newNorm = clipped.map { $0 * $0 }.reduce(0, +).squareRoot()
        XCTAssertEqual(newNorm, 1, accuracy: 1e-5)
        // Below the limit nothing changes.
        XCTAssertEqual(try clipGradientNorm([a, b], maxNorm: 10), newNorm, accuracy: 1e-12)
        XCTAssertEqual(try a.grad!.doubles(), [clipped[0], clipped[1]])
    }

    func testSmallNetworkLearns() throws {
        // Fit y = 2x − 1 with a 1→8→1 MLP; the loss must drop by two orders of magnitude.
        try Torch.manualSeed(1)
        let net = try Sequential(Linear(1, 8), Tanh(), Linear(8, 1))
        let x = try Tensor.linspace(-1, 1, count: 32).reshape([32, 1])
        let y = x * 2 - 1
        let opt = try Adam(net.parameters(), learningRate: 0.05)
        var first = 0.0, last = 0.0
        for i in 0..<300 {
            try opt.zeroGrad()
            let loss = try (net(x) - y).square().mean()
            try loss.backward()
            try opt.step()
            if i == 0 { first = try loss.item() }
            last = try loss.item()
        }
        XCTAssertLessThan(last, first / 100)
    }
}
