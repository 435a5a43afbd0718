import ArgumentParser
import Foundation
import Objectives
import Torch

/// The BaBLoss row of `contour bench objectives`: BaB(S, L) forward + backward on
/// (2, 8, s³) raw segmentation outputs and (2, 6, s³) heatmaps (FeTA's K and P, its relations),
/// against the official PyTorch function (benchmarks/bab_reference.py) on the same tensors,
/// in interleaved rounds; the ratio Contour / official with a 95 % interval over rounds.
struct BaBBench {
    var size: Int
    var rounds: Int
    var warmup: Int
    var python: String?

    static let relations: [String: [Int]] = ["0": [1, 5], "1": [1, 5], "2": [1, 5], "3": [1, 5], "4": [4, 5], "5": [1, 5]]

    func run() throws -> [String: Any] {
        let interpreter = python ?? (FileManager.default.isExecutableFile(atPath: ".venv-bench/bin/python") ? ".venv-bench/bin/python" : "python3")
        let script = "benchmarks/bab_reference.py"
        guard FileManager.default.fileExists(atPath: script) else {
            throw ValidationError("\(script) not found: run from the repository root")
        }
        let dir = (NSTemporaryDirectory() as NSString).appendingPathComponent("contour-bab-bench-\(getpid())")
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (s, h) = try inputs()
        let sPath = (dir as NSString).appendingPathComponent("segmentation.npy"), hPath = (dir as NSString).appendingPathComponent("heatmaps.npy")
        try s.saveNPY(sPath)
        try h.saveNPY(hPath)
        let loss = BaBLoss(relations: LandmarkRelations(Self.relations))
        let table = try loss.relations!.resolve(landmarkNames: [], landmarks: 6, classes: 8)

        let relationsJSON = String(decoding: try JSONSerialization.data(withJSONObject: Self.relations, options: [.sortedKeys]), as: UTF8.self)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [interpreter, script, "--segmentation", sPath, "--heatmaps", hPath, "--relations", relationsJSON,
                             "--threads", "\(Torch.threads)"]
        let input = Pipe(), output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        try process.run()
        defer { try? input.fileHandleForWriting.close(); process.waitUntilExit() }
        var lines = LineReader(handle: output.fileHandleForReading)
        func reply() throws -> [String: Any] {
            guard let line = lines.next(), let o = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
                throw ValidationError("\(interpreter) \(script) stopped (it needs torch, numpy and scipy; make bench-venv or --python PATH)")
            }
            return o
        }
        _ = try reply()

        var ours: [Double] = [], theirs: [Double] = [], ratios: [Double] = []
        var values: (Double, Double) = (0, 0)
        for round in 0..<(warmup + rounds) {
            input.fileHandleForWriting.write(Data("run\n".utf8))
            let r = try reply()
            let t0 = DispatchTime.now().uptimeNanoseconds
            let sl = try s.clone().requiringGrad(), hl = try h.clone().requiringGrad()
            let v = try loss.value(segmentation: sl, heatmaps: hl, table: table)
            _ = try gradients(of: v, with: [sl, hl])
            let ms = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6
            values = (try v.item(), r["loss"] as? Double ?? .nan)
            if round >= warmup, let refMs = r["ms"] as? Double {
                ours.append(ms)
                theirs.append(refMs)
                ratios.append(ms / refMs)
            }
        }
        input.fileHandleForWriting.write(Data("quit\n".utf8))
        // Mean of log ratios ± t·sd/√n, back-transformed: a 95 % interval for the typical ratio.
        let logs = ratios.map { Foundation.log($0) }
        let mean = logs.reduce(0, +) / Double(logs.count)
        let sd = logs.count > 1 ? (logs.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(logs.count - 1)).squareRoot() : 0
        let t = [12.71, 4.30, 3.18, 2.78, 2.57, 2.45, 2.36, 2.31, 2.26, 2.23][min(max(logs.count - 2, 0), 9)]
        let half = logs.count > 1 ? t * sd / Double(logs.count).squareRoot() : 0
        return ["shape_segmentation": s.shape, "shape_heatmaps": h.shape, "rounds": rounds,
                "contour_ms": median(ours), "official_ms": median(theirs), "ratio": Foundation.exp(mean),
                "ratio_ci95": [Foundation.exp(mean - half), Foundation.exp(mean + half)],
                "loss_contour": values.0, "loss_official": values.1,
                "agree": abs(values.0 - values.1) <= 1e-4 * max(1, abs(values.1))]
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

/// Lines from a pipe, buffered.
struct LineReader {
    let handle: FileHandle
    var buffer = Data()
    init(handle: FileHandle) { self.handle = handle }
    mutating func next() -> String? {
        while true {
            if let i = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                let line = String(decoding: buffer[buffer.startIndex..<i], as: UTF8.self)
                buffer.removeSubrange(buffer.startIndex...i)
                return line
            }
            let chunk = handle.availableData
            if chunk.isEmpty { return nil }
            buffer.append(chunk)
        }
    }
}
