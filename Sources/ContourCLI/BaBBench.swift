import ArgumentParser
import Foundation
import Objectives
import Torch

/// The BaBLoss row of `contour bench objectives`: BaB(S, L) forward + backward on
/// (2, 8, s³) raw segmentation outputs and (2, 6, s³) heatmaps (FeTA's K and P, its relations),
/// against the official PyTorch function (re-implemented in scripts/fixtures/make_bab_fixtures.py,
/// run by benchmarks/bench_worker.py) on the same tensors, in BenchMethod's interleaved rounds.
struct BaBBench {
    var size: Int
    var method: BenchMethod
    var python: String?

    static let relations: [String: [Int]] = ["0": [1, 5], "1": [1, 5], "2": [1, 5], "3": [1, 5], "4": [4, 5], "5": [1, 5]]

    func run() throws -> BenchRecord {
        let dir = (NSTemporaryDirectory() as NSString).appendingPathComponent("contour-bab-bench-\(getpid())")
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (s, h) = try inputs()
        let sPath = (dir as NSString).appendingPathComponent("segmentation.npy"), hPath = (dir as NSString).appendingPathComponent("heatmaps.npy")
        try s.saveNPY(sPath)
        try h.saveNPY(hPath)
        let loss = BaBLoss(relations: LandmarkRelations(Self.relations))
        let table = try loss.relations!.resolve(landmarkNames: [], landmarks: 6, classes: 8)

        let (started, startNote) = ReferenceWorker.start(python: python, threads: Torch.threads)
        defer { started?.close() }
        var note = startNote, worker: ReferenceWorker?
        if let w = started, note == nil {
            note = try w.prepare("bab", ref: "torch.bab", args: ["segmentation": sPath, "heatmaps": hPath, "relations": Self.relations,
                                                                 "threads": Torch.threads])
            if note == nil { worker = w }
        }
        var ours = Double.nan, theirs: Double?
        var arms: [() throws -> Double] = [{
            try BenchMethod.milliseconds {
                let sl = try s.clone().requiringGrad(), hl = try h.clone().requiringGrad()
                let v = try loss.value(segmentation: sl, heatmaps: hl, table: table)
                _ = try gradients(of: v, with: [sl, hl])
                ours = try v.item()
            }
        }]
        if let worker { arms.append { let (ms, r) = try worker.time("bab"); theirs = r as? Double; return ms } }
        let samples = try method.run(arms)
        let agree = theirs.map { abs(ours - $0) <= 1e-4 * max(1, abs($0)) }
        return method.record(bench: "objectives", name: "BaBLoss fwd+bwd", size: "\(s.shape.map(String.init).joined(separator: "×")) + "
                                 + h.shape.map(String.init).joined(separator: "×"),
                             contour: samples[0], reference: worker == nil ? nil : samples[1],
                             referenceName: "official BaB function, PyTorch \(worker?.versions["torch"] ?? "")", threads: Torch.threads,
                             agree: agree, note: note ?? theirs.map { String(format: "loss %.6f vs %.6f", ours, $0) })
    }

    /// Raw ReLU-like outputs with blobs of several sizes, and Gaussian heatmaps (σ = 5, whole-batch min–max to 255).
    func inputs() throws -> (Tensor, Tensor) {
        try Torch.manualSeed(1234)
        let n = size
        let field = try Tensor.randn([2, 8, n / 4, n / 4, n / 4]).interpolate(size: [n, n, n], mode: .linear)
        let s = try (field - 0.4).relu()
        let points = try Tensor.rand([2, 6, 3]) * Double(n - 1)
        let h = try HeatmapSettings(sigma: 5, scale: 255, normalization: .batch)
            .render(coordinates: points, mask: try Tensor.ones([2, 6], dtype: .bool), spatial: [n, n, n])
        return (try s.contiguous(), h)
    }
}
