import Foundation
import NeuralNet
import Objectives
import Torch
import XCTest

/// Objectives reduce only over what a batch annotates; heatmaps are rendered as specified.
final class AnnotatedTargetsTests: XCTestCase {
    /// Softmax probabilities of one pixel's logits, by hand.
    func softmax(_ z: [Double]) -> [Double] {
        let m = z.max()!
        let e = z.map { Foundation.exp($0 - m) }
        let s = e.reduce(0, +)
        return e.map { $0 / s }
    }

    func heads(_ logits: Tensor) -> Heads { Heads(Heads.segmentation, levels: [logits]) }

    func testMarginalCrossEntropyMatchesTheHandComputedValue() throws {
        // One sample, three classes, two pixels; only class 2 is annotated, class 1 is merged into background.
        let z: [[Double]] = [[0.3, 1.2, -0.4], [-1.0, 0.5, 2.0]]  // pixel-major: z[pixel][class]
        let logits = try Tensor(z[0].indices.flatMap { c in z.map { $0[c] } }, shape: [1, 3, 1, 2])
        let labels = try Tensor([Int64(0), 2], shape: [1, 1, 1, 2])
        let targets = Targets(labels: labels, annotatedLabels: [[2]], foregroundClasses: [1, 2])
        let ce = try ObjectiveRegistry.make("ce")
        let value = try ce.loss(heads: heads(logits), targets: targets).item()
        let p0 = softmax(z[0]), p1 = softmax(z[1])
        // Pixel 0 is "background or the unannotated class 1"; pixel 1 is class 2.
        let expected = -(Foundation.log(p0[0] + p0[1]) + Foundation.log(p1[2])) / 2
        assertClose(value, expected, tol: 1e-12)
        // Fully annotated, the same call is the plain loss.
        let full = Targets(labels: labels, annotatedLabels: [[1, 2]], foregroundClasses: [1, 2])
        assertClose(try ce.loss(heads: heads(logits), targets: full).item(),
                    try ce(logits: logits, target: LossTarget(labels: labels)).item(), tol: 1e-15)
    }

    func testMarginalDiceMergesProbabilities() throws {
        // Dice of the merged form equals Dice on 2 channels: [p0 + p1, p2] against [bg, class 2].
        let g = try Generator(seed: 4)
        let logits = try Tensor.randn([1, 3, 4, 4], dtype: .float64, generator: g)
        let labels = try Tensor.randint(0, 2, [1, 1, 4, 4], generator: g) * 2.0
        let targets = Targets(labels: try labels.to(.int64), annotatedLabels: [[2]], foregroundClasses: [1, 2])
        let dice = try ObjectiveRegistry.make("dice")
        let p = try logits.softmax(dim: 1)
        let merged = try Tensor.cat([try p.narrow(dim: 1, start: 0, length: 2).sum(dims: [1], keepDim: true), try p.narrow(dim: 1, start: 2, length: 1)], dim: 1)
        let reference = try ObjectiveRegistry.make("dice")
        // 'dice' applies softmax itself: feed log-probabilities so that softmax(log p) = p.
        let expected = try reference(logits: try merged.log(), target: LossTarget(labels: try (labels / 2.0).to(.int64))).item()
        assertClose(try dice.loss(heads: heads(logits), targets: targets).item(), expected, tol: 1e-12)
    }

    func testSamplesWithoutLabelsContributeNothing() throws {
        let g = try Generator(seed: 2)
        let logits = try Tensor.randn([3, 2, 4, 4], dtype: .float64, generator: g).requiringGrad()
        let labels = try Tensor.randint(0, 2, [3, 1, 4, 4], generator: g)
        // Sample 1 has no label map: its logits get no gradient and the value is the mean over samples 0 and 2.
        let targets = Targets(labels: labels, annotatedLabels: [[1], [], [1]], foregroundClasses: [1])
        let ce = try ObjectiveRegistry.make("cedice")
        let loss = try ce.loss(heads: heads(logits), targets: targets)
        try loss.backward()
        let grad = try XCTUnwrap(logits.grad)
        XCTAssertEqual(try grad.select(dim: 0, index: 1).abs().max().item(), 0)
        XCTAssertGreaterThan(try grad.select(dim: 0, index: 0).abs().max().item(), 0)
        let index = try Tensor([Int64(0), 2], shape: [2])
        let kept = try ce(logits: try logits.detached().indexSelect(dim: 0, index: index),
                          target: LossTarget(labels: try labels.indexSelect(dim: 0, index: index))).item()
        assertClose(try loss.item(), kept, tol: 1e-12)
    }

    func testABatchWithNothingAnnotatedGivesAZeroLoss() throws {
        let logits = try Tensor.randn([2, 3, 4, 4], dtype: .float64).requiringGrad()
        let targets = Targets(labels: try Tensor.zeros([2, 1, 4, 4], dtype: .int64), annotatedLabels: [[], []], foregroundClasses: [1, 2])
        for name in ["ce", "dice", "cedice", "focal", "scnp+cedice"] {
            let loss = try ObjectiveRegistry.make(name).loss(heads: heads(logits), targets: targets)
            XCTAssertEqual(try loss.item(), 0, name)
            try loss.backward()
        }
        // Without any label tensor at all (a batch of landmark-only cases) too.
        let none = Targets(labels: nil, annotatedLabels: [[], []], foregroundClasses: [1, 2])
        XCTAssertEqual(try ObjectiveRegistry.make("ce").loss(heads: heads(logits), targets: none).item(), 0)
    }

    func testDeepSupervisionWeightsLevelsAsNNUNet() throws {
        let g = try Generator(seed: 3)
        let full = try Tensor.randn([1, 2, 8, 8], dtype: .float64, generator: g)
        let half = try Tensor.randn([1, 2, 4, 4], dtype: .float64, generator: g)
        let labels = try Tensor.randint(0, 2, [1, 1, 8, 8], generator: g)
        let ce = try ObjectiveRegistry.make("ce")
        let value = try ce.loss(heads: Heads(Heads.segmentation, levels: [full, half]),
                                targets: try Targets(labels: labels, classes: 2)).item()
        let down = try labels.to(.float32).interpolate(size: [4, 4], mode: .nearest).to(.int64)
        let expected = (try ce(logits: full, target: LossTarget(labels: labels)).item() * 1
                        + (try ce(logits: half, target: LossTarget(labels: down)).item()) * 0.5) / 1.5
        assertClose(value, expected, tol: 1e-12)
    }

    func testHeadBindingReadsTheNamedHead() throws {
        let g = try Generator(seed: 5)
        let a = try Tensor.randn([1, 2, 4, 4], dtype: .float64, generator: g)
        let b = try Tensor.randn([1, 2, 4, 4], dtype: .float64, generator: g)
        var h = Heads(Heads.segmentation, levels: [a])
        h.set("foreground", b)
        let labels = try Tensor.randint(0, 2, [1, 1, 4, 4], generator: g)
        let bound = try HeadBoundObjective(try ObjectiveRegistry.make("dice"), head: "foreground")
        XCTAssertEqual(bound.heads, ["foreground"])
        let plain = try ObjectiveRegistry.make("dice")
        let expected = try plain(logits: b, target: LossTarget(labels: labels)).item()
        assertClose(try bound.loss(heads: h, targets: try Targets(labels: labels, classes: 2)).item(), expected, tol: 1e-15)
        XCTAssertThrowsError(try HeadBoundObjective(try ObjectiveRegistry.make("dice"), head: "uncertainty")
            .loss(heads: h, targets: try Targets(labels: labels, classes: 2))) { XCTAssertTrue("\($0)".contains("'uncertainty'"), "\($0)") }
    }

    func testHeatmapsAreGaussiansNormalisedAsConfigured() throws {
        // One landmark at (row 2, col 3) in a 5×6 image, σ = 1.5; a second landmark is missing.
        let coords = try Tensor([Float(2), 3, 0, 0], shape: [1, 2, 2])
        let mask = try Tensor([UInt8(1), 0], shape: [1, 2]).to(.bool)
        let raw = try HeatmapSettings(sigma: 1.5, scale: 1, normalization: .none).render(coordinates: coords, mask: mask, spatial: [5, 6])
        XCTAssertEqual(raw.shape, [1, 2, 5, 6])
        for (y, x) in [(2, 3), (0, 0), (4, 5), (1, 3)] {
            let expected = Foundation.exp(-Double((y - 2) * (y - 2) + (x - 3) * (x - 3)) / (2 * 1.5 * 1.5))
            assertClose(try raw[0, 0, .index(y), .index(x)].item(), expected, tol: 1e-6)
        }
        XCTAssertEqual(try raw.select(dim: 1, index: 1).abs().max().item(), 0)
        // Off-grid centre: per-landmark normalisation puts the peak at `scale`.
        let off = try Tensor([Float(2.5), 3.5], shape: [1, 1, 2])
        let one = try Tensor([UInt8(1)], shape: [1, 1]).to(.bool)
        let scaled = try HeatmapSettings(sigma: 1, scale: 255, normalization: .perLandmark).render(coordinates: off, mask: one, spatial: [5, 6])
        assertClose(try scaled.max().item(), 255, tol: 1e-3)
        // Batch min–max (BaBLoss official): the minimum over the whole tensor maps to 0.
        let batch = try HeatmapSettings(sigma: 1, scale: 255, normalization: .batch).render(coordinates: off, mask: one, spatial: [5, 6])
        assertClose(try batch.min().item(), 0, tol: 1e-6)
        assertClose(try batch.max().item(), 255, tol: 1e-3)
    }

    func testHeatmapMSEScoresAnnotatedLandmarksOnly() throws {
        let pred = try Tensor.full([1, 2, 3, 3], 0.5)
        var truth = try Tensor.zeros([1, 2, 3, 3])
        truth = try truth.adding(try Tensor.full([1, 2, 3, 3], 1))
        let mask = try Tensor([UInt8(1), 0], shape: [1, 2]).to(.bool)
        var h = Heads()
        h.set(Heads.heatmaps, pred)
        let t = Targets(labels: nil, annotatedLabels: [[]], foregroundClasses: [1], landmarkMask: mask, heatmaps: truth)
        let mse = try ObjectiveRegistry.make("heatmap-mse")
        XCTAssertEqual(mse.needs, [.heatmaps])
        assertClose(try mse.loss(heads: h, targets: t).item(), 0.25, tol: 1e-7)
        let none = Targets(labels: nil, annotatedLabels: [[]], foregroundClasses: [1],
                           landmarkMask: try Tensor([UInt8(0), 0], shape: [1, 2]).to(.bool), heatmaps: truth)
        XCTAssertEqual(try mse.loss(heads: h, targets: none).item(), 0)
    }
}

final class BalancerTests: XCTestCase {
    func testPCGradProjectsConflictingGradients() throws {
        // g1 = (1, 0), g2 = (−0.5, 1): g1·g2 < 0. g1' = g1 − (−0.5/1.25)·g2 = (0.8, 0.4); g2' = g2 + 0.5·g1 = (0, 1).
        let pc = try BalancerRegistry.make("pcgrad")
        XCTAssertTrue(pc.needsGradients)
        let d = try pc.combine([try Tensor([1.0, 0], shape: [2]), try Tensor([-0.5, 1.0], shape: [2])], losses: [1, 1])
        assertClose(try d.toArray(Double.self), [0.8, 1.4], atol: 1e-12)
        let mean = try BalancerRegistry.make("pcgrad", options: ["reduction": .string("mean")])
        assertClose(try mean.combine([try Tensor([1.0, 0], shape: [2]), try Tensor([-0.5, 1.0], shape: [2])], losses: [1, 1]).toArray(Double.self),
                    [0.4, 0.7], atol: 1e-12)
        // No conflict: the plain sum.
        assertClose(try pc.combine([try Tensor([1.0, 2], shape: [2]), try Tensor([3.0, 1], shape: [2])], losses: [1, 1]).toArray(Double.self),
                    [4, 3], atol: 1e-12)
    }

    func testPCGradOrderIsSeededAndItsStateRestores() throws {
        let g = [try Tensor([1.0, 0, 0], shape: [3]), try Tensor([-0.6, 1, 0], shape: [3]), try Tensor([-0.3, -0.8, 1], shape: [3])]
        let a = try BalancerRegistry.make("pcgrad", options: ["seed": .number(7)])
        let b = try BalancerRegistry.make("pcgrad", options: ["seed": .number(7)])
        _ = try a.combine(g, losses: [1, 1, 1])
        let saved = a.state()
        let next = try a.combine(g, losses: [1, 1, 1]).toArray(Double.self)
        _ = try b.combine(g, losses: [1, 1, 1])
        try b.load(state: saved)
        XCTAssertEqual(try b.combine(g, losses: [1, 1, 1]).toArray(Double.self), next)
        XCTAssertThrowsError(try b.load(state: [:]))
    }

    func testRegistryNamesUnknownBalancers() throws {
        XCTAssertThrowsError(try BalancerRegistry.make("nash")) { XCTAssertTrue("\($0)".contains("pcgrad"), "\($0)") }
        XCTAssertThrowsError(try BalancerRegistry.make("sum", options: ["slack": .number(1)])) { XCTAssertTrue("\($0)".contains("'slack'"), "\($0)") }
        XCTAssertFalse(try BalancerRegistry.make("sum").needsGradients)
    }
}
