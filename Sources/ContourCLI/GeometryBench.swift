import ArgumentParser
import Foundation
import Geometry
import Metrics
import Torch

/// `contour bench geometry`: Contour's geometry and metrics kernels against scipy, seung-lab
/// `edt`, cc3d and MONAI on the same inputs, in interleaved rounds (BenchMethod) with the
/// references in one long-lived worker. Every row checks agreement before it says "yes".
struct GeometryBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "geometry",
        abstract: "EDT, connected components, HD95 and Betti numbers vs scipy / edt / cc3d / MONAI (interleaved rounds).",
        discussion: """
        Inputs are seeded smooth random masks written as .npy for the worker. Ratio = Contour time / \
        reference time (< 1: Contour faster). Contour's kernels use every core (Dispatch); the worker \
        gets the same count as OMP threads, torch threads and edt's `parallel` (scipy and cc3d are \
        single-threaded by design). Example: contour bench geometry --quick --json
        """)

    @Option(help: "Python for the references (default .venv-bench/bin/python, else python3; 'none': Contour only).")
    var python: String?
    @Option(help: "Timed interleaved rounds.") var rounds = 10
    @Option(help: "Untimed warm-up rounds.") var warmup = 1
    @Option(help: "Comma-separated rows to run (default all): edt2d,edt3d,cc3d,cc2d,hd95_2d,hd95_3d,betti2d.") var only: String?
    @Option(help: "Folder for the generated inputs (default: a fresh temporary folder, removed after).") var work: String?
    @Option(help: "How the HD95 rows find surface distances: automatic, distanceTransform or nearestPoint.")
    var hd95Method: String = SurfaceDistances.Method.automatic.rawValue
    @Flag(help: "Small sizes (the `bench all` set).") var quick = false
    @Flag(help: "Print JSON (an array of rows, the schema of every bench).") var json = false

    static let rows = ["edt2d", "edt3d", "cc3d", "cc2d", "hd95_2d", "hd95_3d", "betti2d"]

    func sizes() -> [String: [Int]] {
        quick ? ["edt2d": [512, 512], "edt3d": [96, 96, 96], "cc3d": [96, 96, 96], "cc2d": [1024, 1024],
                 "hd95_2d": [256, 256], "hd95_3d": [64, 64, 64], "betti2d": [512, 512]]
              : ["edt2d": [1024, 1024], "edt3d": [256, 256, 256], "cc3d": [256, 256, 256], "cc2d": [4096, 4096],
                 "hd95_2d": [512, 512], "hd95_3d": [160, 160, 160], "betti2d": [1024, 1024]]
    }

    func run() throws {
        let records = try measure(progress: !json)
        try BenchRecord.emit(records, json: json)
        if records.contains(where: { $0.agree == false }) {
            FileHandle.standardError.write(Data("error: a result differs from its reference\n".utf8))
            throw ExitCode.failure
        }
    }

    /// A seeded smooth random mask: noise at 1/`coarse` resolution, interpolated up, thresholded.
    static func blobs(_ shape: [Int], coarse: Int, threshold: Double = 0.3) throws -> Grid<Bool> {
        let low = shape.map { max(2, $0 / coarse) }
        let field = try Tensor.randn([1, 1] + low).interpolate(size: shape, mode: .linear)
        return try Grid(shape: shape, storage: try field.gt(threshold).toArray(Bool.self))
    }

    func measure(progress: Bool = false) throws -> [BenchRecord] {
        let method = try BenchMethod(warmup: warmup, rounds: rounds)
        guard let surfaceMethod = SurfaceDistances.Method(rawValue: hd95Method) else {
            throw ValidationError("--hd95-method: unknown '\(hd95Method)'; expected one of \(SurfaceDistances.Method.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        let selected = only.map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } } ?? Self.rows
        for r in selected where !Self.rows.contains(r) {
            throw ValidationError("--only: unknown row '\(r)'; expected some of \(Self.rows.joined(separator: ","))")
        }
        let threads = ProcessInfo.processInfo.activeProcessorCount
        let dir = work ?? (NSTemporaryDirectory() as NSString).appendingPathComponent("contour-bench-geometry-\(getpid())")
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { if work == nil { try? FileManager.default.removeItem(atPath: dir) } }
        func path(_ name: String) -> String { (dir as NSString).appendingPathComponent(name + ".npy") }
        func save(_ g: Grid<Bool>, _ name: String) throws -> String {
            let p = path(name)
            try Data(NPYArray(shape: g.shape, elements: g.storage.map { UInt8($0 ? 1 : 0) }).encoded()).write(to: URL(fileURLWithPath: p))
            return p
        }

        let (worker, missing) = ReferenceWorker.start(python: python, threads: threads)
        defer { worker?.close() }
        try Torch.manualSeed(7)
        let size = sizes()
        var records: [BenchRecord] = []

        /// Times Contour's `body` against reference `ref` in interleaved rounds and checks agreement.
        func compare(_ name: String, _ shape: [Int], ref: String, label: String, args: [String: Any],
                     contour: @escaping () throws -> Any, agree: (Any, Any?) throws -> Bool) throws {
            var note = missing
            var refReady = false
            if let worker, note == nil {
                note = try worker.prepare(name + ref, ref: ref, args: args)
                refReady = note == nil
            }
            var ours: Any?, theirs: Any?
            var arms: [() throws -> Double] = [{ try BenchMethod.milliseconds { ours = try contour() } }]
            if refReady, let worker {
                arms.append { let (ms, r) = try worker.time(name + ref); theirs = r; return ms }
            }
            if progress { FileHandle.standardError.write(Data("bench geometry: \(name) vs \(label)…\n".utf8)) }
            let samples = try method.run(arms)
            let ok: Bool? = refReady ? try agree(ours!, theirs) : nil
            records.append(method.record(bench: "geometry", name: name, size: shape.map(String.init).joined(separator: "x"),
                                         contour: samples[0], reference: refReady ? samples[1] : nil, referenceName: label,
                                         threads: threads, agree: ok, note: note))
        }
        func close(_ a: Double, _ b: Any?, _ tolerance: Double) -> Bool {
            guard let b = (b as? Double) ?? (b as? Int).map(Double.init) else { return false }
            return abs(a - b) <= tolerance * max(1, abs(b))
        }
        func distanceSum(_ d: Any) -> Double { (d as! Grid<Double>).storage.reduce(0, +) }

        for row in selected {
            let shape = size[row]!
            switch row {
            case "edt2d", "edt3d":
                let mask = try Self.blobs(shape, coarse: row == "edt2d" ? 16 : 8)
                let p = try save(mask, row)
                let body: () throws -> Any = { try DistanceTransform.euclidean(mask) }
                try compare(row, shape, ref: "scipy.edt", label: "scipy.ndimage.distance_transform_edt", args: ["input": p],
                            contour: body) { close(distanceSum($0), $1, 1e-9) }
                try compare(row + "_edt", shape, ref: "seung.edt", label: "edt.edt (seung-lab), parallel=\(threads)",
                            args: ["input": p, "threads": threads], contour: body) { close(distanceSum($0), $1, 1e-5) }
            case "cc3d", "cc2d":
                let mask = try Self.blobs(shape, coarse: 2, threshold: 0.2)
                let p = try save(mask, row)
                let connectivity: Connectivity = row == "cc3d" ? .twentySix : .eight
                try compare(row, shape, ref: "cc3d", label: "cc3d.connected_components(connectivity=\(connectivity.rawValue)), single-threaded",
                            args: ["input": p, "connectivity": connectivity.rawValue],
                            contour: { try ConnectedComponents.label(mask, connectivity: connectivity) }) { ours, count in
                    let labels = ours as! ComponentLabeling
                    guard (count as? Int) == labels.count, let worker else { return false }
                    let lp = path(row + "_contour_labels")
                    try Data(NPYArray(shape: labels.labels.shape, elements: labels.labels.storage).encoded()).write(to: URL(fileURLWithPath: lp))
                    return try worker.request(["op": "partition", "id": row + "cc3d", "labels": lp])["agree"] as? Bool ?? false
                }
            case "hd95_2d", "hd95_3d":
                let coarse = row == "hd95_2d" ? 16 : 8
                let prediction = try Self.blobs(shape, coarse: coarse), truth = try Self.blobs(shape, coarse: coarse)
                let args: [String: Any] = ["prediction": try save(prediction, row + "_pred"), "truth": try save(truth, row + "_truth"),
                                           "threads": threads]
                let label = "monai compute_hausdorff_distance(percentile=95), CPU"
                try compare(row, shape, ref: "monai.hd95", label: label, args: args, contour: {
                    try SurfaceDistances(prediction: prediction, truth: truth, method: surfaceMethod).hausdorff(percentile: 95)
                }) { close($0 as! Double, $1, 1e-4) }
            case "betti2d":
                let mask = try Self.blobs(shape, coarse: 4)
                try compare(row, shape, ref: "scipy.betti", label: "scipy.ndimage.label counting", args: ["input": try save(mask, row)],
                            contour: { try BettiNumbers(mask) }) { ours, theirs in
                    let b = ours as! BettiNumbers
                    return (theirs as? [Int]) == [b.b0, b.b1]
                }
            default: break
            }
        }
        if let worker, !json { FileHandle.standardError.write(Data("reference worker: \(worker.versionLine)\n".utf8)) }
        return records
    }
}
