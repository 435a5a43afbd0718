import Foundation
import XCTest
import NeuralNet
import Torch
@testable import Objectives

/// BaBLoss against the PyTorch/SciPy re-implementation of the official function
/// (scripts/fixtures/make_bab_fixtures.py), the README figure's cosine example, and the
/// partial-label rules of the training objective.
final class BaBLossTests: XCTestCase {
    struct Case: Decodable {
        var name: String
        var input: String?
        var heatmaps: String?
        var maxDistance: Int
        var form: String
        var loss: Double
        var relations: [String: [Int]]
    }

    func bab(_ name: String) throws -> Tensor {
        guard let url = Bundle.module.url(forResource: name, withExtension: "npy", subdirectory: "Fixtures/bab") else {
            throw ObjectiveError("missing fixture bab/\(name).npy (scripts/fixtures/make_bab_fixtures.py)")
        }
        return try Tensor.loadNPY(url.path)
    }

    func cases() throws -> [Case] {
        guard let url = Bundle.module.url(forResource: "cases", withExtension: "json", subdirectory: "Fixtures/bab") else {
            throw ObjectiveError("missing fixture bab/cases.json")
        }
        struct File: Decodable { var cases: [Case] }
        return try JSONDecoder().decode(File.self, from: Data(contentsOf: url)).cases
    }

    func objective(_ c: Case) throws -> BaBLoss {
        try XCTUnwrap(ObjectiveRegistry.make("bab", options: [
            "form": .string(c.form), "maxDistance": .number(Double(c.maxDistance)),
            "relations": .object(c.relations.mapValues { .array($0.map { .number(Double($0)) }) }),
        ]) as? BaBLoss)
    }

    func testValueAndGradientsMatchTheOfficialFunction() throws {
        var checked = 0
        for c in try cases() where c.input != nil {
            let loss = try objective(c)
            let oneHot = c.input!.hasSuffix("onehot")
            let segName = oneHot ? c.input! : c.input! + "_seg"
            let s = try bab(segName).to(.float64).clone().requiringGrad()
            let h = try bab((c.heatmaps ?? c.input!) + "_heat").to(.float64).clone().requiringGrad()
            let value = try loss.value(segmentation: s, heatmaps: h)
            assertClose(try value.item(), c.loss, tol: 1e-5 * max(1, abs(c.loss)), c.name)
            let g = try gradients(of: value, with: [s, h], allowUnused: true)
            try assertClose(g[1]!, try bab(c.name + "_gheat").to(.float64), atol: 1e-6, rtol: 1e-5, "\(c.name) d/dheatmaps")
            if !oneHot {
                try assertClose(g[0]!, try bab(c.name + "_gseg").to(.float64), atol: 1e-6, rtol: 1e-5, "\(c.name) d/dsegmentation")
            }
            // float32 inputs give the same value to float32 precision.
            let v32 = try loss.value(segmentation: try bab(segName), heatmaps: try h.detached().to(.float32)).item()
            assertClose(v32, c.loss, tol: 1e-4, "\(c.name) float32")
            checked += 1
        }
        XCTAssertEqual(checked, 8)
    }

    /// §5.4 on a landmark-first 2 + 2 batch: BaB(Ŝ[2:], H) + BaB(onehot(y), L̂[:2]).
    func testTrainingObjectivePairsTheHalvesAsTheOfficialScript() throws {
        let c = try XCTUnwrap(try cases().first { $0.name == "train" })
        let loss = try objective(c)
        let seg = try bab("train_seg").to(.float64).clone().requiringGrad()
        let heat = try bab("train_heat").to(.float64).clone().requiringGrad()
        let spatial = Array(seg.shape.dropFirst(2))
        let y = try bab("train_labels")
        let labels = try Tensor.cat([try Tensor.zeros([2] + spatial, dtype: .int64), y]).unsqueeze(dim: 1)
        let truth = try Tensor.cat([try bab("train_gt_heat").to(.float64), try Tensor.zeros([2, 2] + spatial, dtype: .float64)])
        let mask = try Tensor([UInt8]([1, 1, 1, 1, 0, 0, 0, 0]), shape: [4, 2]).to(.bool)
        let targets = Targets(labels: labels, annotatedLabels: [[], [], [1, 2, 3], [1, 2, 3]], foregroundClasses: [1, 2, 3],
                              landmarkMask: mask, heatmaps: truth)
        var heads = Heads(Heads.segmentation, levels: [seg])
        heads.set(Heads.heatmaps, heat)
        let value = try loss.loss(heads: heads, targets: targets)
        assertClose(try value.item(), c.loss, tol: 1e-5 * c.loss)
        let g = try gradients(of: value, with: [seg, heat])
        try assertClose(g[0]!, try bab("train_gseg").to(.float64), atol: 1e-6, rtol: 1e-5, "d/dsegmentation")
        try assertClose(g[1]!, try bab("train_gheat").to(.float64), atol: 1e-6, rtol: 1e-5, "d/dheatmaps")
    }

    /// The README's BaBLoss figure: 1 − cos = 0.3830 before, 0.1327 after (printed 0.1367, a typo).
    func testCosineFormReproducesTheREADMEExample() throws {
        let l = try Tensor([0.3, 0.3, 0.3, 0.3, 1, 0.3, 0.3, 0.3, 0.3], shape: [1, 1, 9])
        for (d, expected) in [([0.1, 0.3, 1.0], 0.3830), ([0.3, 1.0, 0.3], 0.1327)] {
            let s = try BaBLoss.similarity(heatmaps: l, distances: try Tensor(d + d + d, shape: [1, 1, 9]), form: .cosine)
            assertClose(1 - (try s.item()), expected, tol: 5e-5)
        }
        // The official form on the same maps (METHODS §5.3: 0.8367 and 0.7622).
        let o = try BaBLoss.similarity(heatmaps: l, distances: try Tensor([0.1, 0.3, 1.0, 0.1, 0.3, 1.0, 0.1, 0.3, 1.0], shape: [1, 1, 9]), form: .official)
        assertClose(1 - (try o.item()), 0.8367, tol: 5e-5)
    }

    /// A partially labelled sample: a class it does not annotate is absent in the ground-truth
    /// direction (never background), and landmark-only samples' segmentation gets no gradient.
    func testPartialLabelsNeverPushAnUnannotatedClassToBackground() throws {
        let spatial = [12, 12]
        var y = [Int64](repeating: 0, count: 144)
        for r in 3..<8 { for c in 2..<7 { y[r * 12 + c] = 1 } }  // class 1 annotated; class 2 not (reads 0)
        let labels = try Tensor.cat([try Tensor.zeros([1, 1] + spatial, dtype: .int64), try Tensor(y, shape: [1, 1] + spatial)])
        let truth = try HeatmapSettings(sigma: 2, scale: 255).render(
            coordinates: try Tensor([Float]([5, 2, 8, 8, 0, 0, 0, 0]), shape: [2, 2, 2]),
            mask: try Tensor([UInt8]([1, 1, 0, 0]), shape: [2, 2]).to(.bool), spatial: spatial)
        let seg = try (Tensor.rand([2, 3] + spatial, dtype: .float64) - 0.3).relu().clone().requiringGrad()
        let heat = try (Tensor.rand([2, 2] + spatial, dtype: .float64) * 255).clone().requiringGrad()
        var heads = Heads(Heads.segmentation, levels: [seg])
        heads.set(Heads.heatmaps, heat)
        let targets = Targets(labels: labels, annotatedLabels: [[], [1]], foregroundClasses: [1, 2],
                              landmarkMask: try Tensor([UInt8]([1, 1, 0, 0]), shape: [2, 2]).to(.bool), heatmaps: truth)
        // Landmark 0 → class 2 (unannotated in sample 1), landmark 1 → background (sample 1 is partial).
        let loss = BaBLoss(relations: LandmarkRelations(["0": [2], "1": [0]]))
        let value = try loss.loss(heads: heads, targets: targets)
        let g = try gradients(of: value, with: [seg, heat])
        // Only the predicted-segmentation direction remains, on sample 1's channels 0 and 2.
        XCTAssertEqual(try g[1]!.abs().sum().item(), 0, "the ground-truth direction used an unannotated class")
        XCTAssertEqual(try g[0]!.select(dim: 0, index: 0).abs().sum().item(), 0, "a landmark-only sample's segmentation got a gradient")
        XCTAssertEqual(try g[0]!.select(dim: 0, index: 1).select(dim: 0, index: 1).abs().sum().item(), 0)
        let direct = try loss.value(segmentation: try seg.detached().narrow(dim: 0, start: 1, length: 1),
                                    heatmaps: try truth.narrow(dim: 0, start: 0, length: 1), table: [[2], [0]])
        assertClose(try value.item(), try direct.item(), tol: 1e-12)
        // Fully annotated, both directions count: the one-hot direction now reaches the heatmaps.
        var full = targets
        full.annotatedLabels = [[], [1, 2]]
        let fullValue = try loss.loss(heads: heads, targets: full)
        XCTAssertGreaterThan(try gradients(of: fullValue, with: [heat])[0]!.abs().sum().item(), 0)
    }

    func testRelationsAndOptionsAreChecked() throws {
        let loss = BaBLoss(relations: LandmarkRelations(["nasion": [1], "vertex": [7]]))
        let s = try Tensor.rand([1, 3, 8, 8]), h = try Tensor.rand([1, 2, 8, 8])
        XCTAssertThrowsError(try loss.value(segmentation: s, heatmaps: h)) {
            XCTAssertTrue("\($0)".contains("landmark 'nasion' does not exist"), "\($0)")
        }
        let heads: Heads = { var x = Heads(Heads.segmentation, levels: [s]); x.set(Heads.heatmaps, h); return x }()
        var t = Targets(labels: try Tensor.zeros([1, 1, 8, 8], dtype: .int64), annotatedLabels: [[1, 2]], foregroundClasses: [1, 2],
                        landmarkMask: try Tensor([UInt8]([1, 1]), shape: [1, 2]).to(.bool), landmarkNames: ["nasion", "vertex"], heatmaps: h)
        XCTAssertThrowsError(try loss.loss(heads: heads, targets: t)) {
            XCTAssertTrue("\($0)".contains("landmark 'vertex' relates to class 7, which does not exist"), "\($0)")
        }
        t.landmarkNames = ["inion", "vertex"]
        XCTAssertThrowsError(try BaBLoss().loss(heads: heads, targets: t)) { XCTAssertTrue("\($0)".contains("needs a relation table"), "\($0)") }
        t.landmarkRelations = ["inion": [1], "vertex": [2]]
        XCTAssertNoThrow(try BaBLoss().loss(heads: heads, targets: t))
        XCTAssertThrowsError(try ObjectiveRegistry.make("bab", options: ["form": .string("dice")]))
        XCTAssertThrowsError(try ObjectiveRegistry.make("bab", options: ["maxDistance": .number(0)]))
        XCTAssertThrowsError(try ObjectiveRegistry.make("bab", options: ["relations": .array([])])) {
            XCTAssertTrue("\($0)".contains("must be an object {landmark: [classes]}"), "\($0)")
        }
    }

    /// D on a straight boundary: 1, then 1/n less per ring, 0 from n on (chessboard).
    func testDistanceMapIsTruncatedChessboard() throws {
        var b = [Double](repeating: 0, count: 15 * 15)
        b[7 * 15 + 7] = 1
        let d = try ChessboardProximity.map(boundary: try Tensor(b, shape: [1, 1, 15, 15]).to(.uint8), maxDistance: 4, dtype: .float64).doubles()
        for (r, c) in [(7, 7), (7, 8), (9, 5), (10, 7), (11, 11), (7, 14)] {
            let dist = max(abs(r - 7), abs(c - 7))
            assertClose(d[r * 15 + c], Double(max(4 - dist, 0)) / 4, tol: 1e-12, "(\(r), \(c))")
        }
    }

    /// DWA (the official dyn, T = 2) on a hand-made loss sequence, and across a checkpoint.
    func testDWAMatchesTheFormulaAndSurvivesACheckpoint() throws {
        let dwa = try XCTUnwrap(BalancerRegistry.make("dwa") as? DWA)
        XCTAssertFalse(dwa.needsGradients)
        try dwa.epochWillStart(1)
        XCTAssertEqual(try dwa.lossWeights([4, 2]), [1, 1])
        XCTAssertEqual(try dwa.lossWeights([3, 1]), [1, 1])      // epoch 1 ends with (3, 1)
        try dwa.epochWillStart(2)
        let w = try XCTUnwrap(dwa.lossWeights([1.5, 0.8]))
        let r = [1.5 / 3 / 2, 0.8 / 1 / 2]
        let z = exp(r[0]) + exp(r[1])
        assertClose(w[0], exp(r[0]) / z, tol: 1e-15)
        assertClose(w[1], exp(r[1]) / z, tol: 1e-15)
        _ = try dwa.lossWeights([1.2, 0.9])                        // epoch 2 ends with (1.2, 0.9)
        // Resume: a fresh balancer with the saved state gives what the running one gives.
        let resumed = DWA()
        try resumed.load(state: dwa.state())
        try dwa.epochWillStart(3)
        try resumed.epochWillStart(3)
        let a = try XCTUnwrap(dwa.lossWeights([1.0, 1.0])), b = try XCTUnwrap(resumed.lossWeights([1.0, 1.0]))
        XCTAssertEqual(a, b)
        let q = [1.0 / 1.2 / 2, 1.0 / 0.9 / 2]
        assertClose(a[0], exp(q[0]) / (exp(q[0]) + exp(q[1])), tol: 1e-15)
        // combine weighs the gradients by the same λ.
        let d = try dwa.combine([try Tensor([1.0, 0], shape: [2]), try Tensor([0, 1.0], shape: [2])], losses: [1.0, 1.0])
        XCTAssertEqual(try d.doubles(), try XCTUnwrap(dwa.lastWeights))
        XCTAssertThrowsError(try BalancerRegistry.make("dwa", options: ["temperature": .number(0)]))
    }
}
