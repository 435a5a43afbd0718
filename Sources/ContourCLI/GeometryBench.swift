import ArgumentParser
import Foundation
import Geometry
import Metrics

/// `contour bench geometry`: Contour's geometry and metrics kernels against the Python
/// references (scipy, cc3d, MONAI) on the same inputs, timed in one run.
struct GeometryBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "geometry",
        abstract: "Time EDT, connected components, HD95 and Betti numbers against scipy/cc3d/MONAI.",
        discussion: """
        Runs benchmarks/geometry_reference.py, which writes the inputs (.npy) and times the Python \
        references on them; then times Contour on the same files and prints both with the ratio \
        reference/contour (> 1 means Contour is faster). Times are the best of --repeats runs.
        """)

    @Option(help: "Python with numpy/scipy (and cc3d, torch+monai for those references).")
    var python: String?

    @Option(help: "The reference script.")
    var script = "benchmarks/geometry_reference.py"

    @Option(help: "Timed runs per operation; the best is reported.")
    var repeats = 3

    @Option(help: "Folder for the generated inputs (default: a fresh temporary folder).")
    var work: String?

    @Flag(help: "Small sizes, for a quick smoke test.")
    var quick = false

    @Flag(help: "Print the results as JSON.")
    var json = false

    struct Entry {
        var name: String
        var shape: [Int]
        var reference: String
        var goal: Double
        var contour: Double
        var referenceTime: Double?
        var agree: Bool?
    }

    func run() throws {
        guard repeats >= 1 else { throw ValidationError("--repeats must be ≥ 1") }
        let dir = work ?? (NSTemporaryDirectory() as NSString).appendingPathComponent("contour-bench-\(getpid())")
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let interpreter = python ?? (FileManager.default.fileExists(atPath: ".venv-bench/bin/python") ? ".venv-bench/bin/python" : "python3")
        guard FileManager.default.fileExists(atPath: script) else {
            throw ValidationError("\(script) not found: run from the repository root or pass --script")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [interpreter, script, "--out", dir, "--repeats", String(repeats)] + (quick ? ["--quick"] : [])
        process.standardOutput = FileHandle.standardError
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw ValidationError("\(interpreter) \(script) failed (exit \(process.terminationStatus)); it needs numpy and scipy")
        }
        let refData = try Data(contentsOf: URL(fileURLWithPath: (dir as NSString).appendingPathComponent("reference.json")))
        let ref = try JSONSerialization.jsonObject(with: refData) as? [String: Any] ?? [:]
        let refTimes = ref["timings"] as? [String: Double] ?? [:]
        let refResults = ref["results"] as? [String: Any] ?? [:]

        func load(_ name: String) throws -> Grid<Bool> {
            let path = (dir as NSString).appendingPathComponent(name + ".npy")
            let array = try NPYArray(decoding: [UInt8](try Data(contentsOf: URL(fileURLWithPath: path))), name: path)
            let bytes = try array.elements(as: UInt8.self)
            return try Grid(shape: array.shape, storage: bytes.map { $0 != 0 })
        }
        func time<T>(_ body: () throws -> T) rethrows -> (Double, T) {
            var best = Double.infinity
            var out: T? = nil
            for _ in 0..<repeats {
                let start = ContinuousClock.now
                out = try body()
                let d = ContinuousClock.now - start
                best = min(best, Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18)
            }
            return (best, out!)
        }
        func close(_ a: Double, _ key: String, _ tol: Double) -> Bool? {
            guard let b = refResults[key] as? Double else { return nil }
            return abs(a - b) <= tol * max(1, abs(b))
        }

        var entries: [Entry] = []
        let edt2 = try load("edt2d")
        let (tE2, d2) = try time { try DistanceTransform.euclidean(edt2) }
        entries.append(Entry(name: "edt2d", shape: edt2.shape, reference: "scipy.ndimage.distance_transform_edt", goal: 3,
                             contour: tE2, referenceTime: refTimes["edt2d"], agree: close(d2.storage.reduce(0, +), "edt2d", 1e-9)))
        let edt3 = try load("edt3d")
        let (tE3, d3) = try time { try DistanceTransform.euclidean(edt3) }
        entries.append(Entry(name: "edt3d", shape: edt3.shape, reference: "scipy.ndimage.distance_transform_edt", goal: 3,
                             contour: tE3, referenceTime: refTimes["edt3d"], agree: close(d3.storage.reduce(0, +), "edt3d", 1e-9)))
        let cc = try load("cc3d")
        let (tC, labels) = try time { try ConnectedComponents.label(cc, connectivity: .twentySix) }
        entries.append(Entry(name: "cc3d", shape: cc.shape, reference: "cc3d.connected_components(connectivity=26)", goal: 1,
                             contour: tC, referenceTime: refTimes["cc3d"],
                             agree: (refResults["cc3d"] as? Int).map { $0 == labels.count }))
        for key in ["hd95_2d", "hd95_3d"] {
            let p = try load(key + "_pred"), g = try load(key + "_truth")
            // The default (nearest-point search) and the EDT path, interleaved so load hits both alike.
            var best = [Double.infinity, .infinity], value = [Double.nan, .nan]
            for _ in 0..<repeats {
                for (k, method) in [SurfaceDistances.Method.automatic, .distanceTransform].enumerated() {
                    let start = ContinuousClock.now
                    value[k] = try SurfaceDistances(prediction: p, truth: g, method: method).hausdorff(percentile: 95)
                    let d = ContinuousClock.now - start
                    best[k] = min(best[k], Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18)
                }
            }
            for (k, name) in [key, key + "_edt"].enumerated() {
                entries.append(Entry(name: name, shape: g.shape, reference: "monai compute_hausdorff_distance(percentile=95), CPU",
                                     goal: k == 0 ? 5 : 0, contour: best[k], referenceTime: refTimes[key], agree: close(value[k], key, 1e-4)))
            }
        }
        let b = try load("betti2d")
        let (tB, betti) = try time { try BettiNumbers(b) }
        entries.append(Entry(name: "betti2d", shape: b.shape, reference: "scipy.ndimage.label counting", goal: 3,
                             contour: tB, referenceTime: refTimes["betti2d"],
                             agree: (refResults["betti2d"] as? [Int]).map { $0 == [betti.b0, betti.b1] }))
        if work == nil { try? FileManager.default.removeItem(atPath: dir) }

        if json {
            print(Self.json(entries, cpus: ProcessInfo.processInfo.activeProcessorCount))
        } else {
            func pad(_ s: String, _ n: Int, left: Bool = false) -> String {
                let fill = String(repeating: " ", count: max(0, n - s.count))
                return left ? fill + s : s + fill
            }
            print([pad("op", 11), pad("shape", 15), pad("contour ms", 11, left: true), pad("reference ms", 13, left: true),
                   pad("ratio", 8, left: true), pad("goal", 6, left: true), pad("agree", 6, left: true), "  reference"].joined(separator: " "))
            for e in entries {
                let shape = e.shape.map(String.init).joined(separator: "x")
                let refMs = e.referenceTime.map { String(format: "%.1f", $0 * 1000) } ?? "-"
                let ratio = e.referenceTime.map { String(format: "%.2f", $0 / e.contour) } ?? "-"
                let agree = e.agree.map { $0 ? "yes" : "NO" } ?? "-"
                print([pad(e.name, 11), pad(shape, 15), pad(String(format: "%.1f", e.contour * 1000), 11, left: true),
                       pad(refMs, 13, left: true), pad(ratio, 8, left: true), pad(String(format: "%.0fx", e.goal), 6, left: true),
                       pad(agree, 6, left: true), "  " + e.reference].joined(separator: " "))
            }
            print("cores: \(ProcessInfo.processInfo.activeProcessorCount); ratio = reference time / contour time")
        }
        if entries.contains(where: { $0.agree == false }) {
            FileHandle.standardError.write(Data("error: a result differs from the reference\n".utf8))
            throw ExitCode.failure
        }
    }

    static func json(_ entries: [Entry], cpus: Int) -> String {
        let ops = entries.map { e -> String in
            var f = ["\"name\":\"\(e.name)\"", "\"shape\":[\(e.shape.map(String.init).joined(separator: ","))]",
                     "\"reference\":\"\(e.reference)\"", "\"goal\":\(e.goal)", "\"contour_s\":\(e.contour)"]
            f.append("\"reference_s\":" + (e.referenceTime.map { "\($0)" } ?? "null"))
            f.append("\"ratio\":" + (e.referenceTime.map { "\($0 / e.contour)" } ?? "null"))
            f.append("\"agree\":" + (e.agree.map { $0 ? "true" : "false" } ?? "null"))
            return "{" + f.joined(separator: ",") + "}"
        }
        return "{\"cpus\":\(cpus),\"ops\":[" + ops.joined(separator: ",") + "]}"
    }
}
