import ArgumentParser
import Foundation
import Geometry
import Imaging
import Metrics
import Training

/// `contour bench data`: throughput of the data pipeline on 256² PNG image/label pairs.
struct DataBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "data",
        abstract: "Time decode + augment + batch of 256² PNG image/label pairs (images/s; goal ≥ 2000 on 2 cores).",
        discussion: """
        Writes --pairs random 256² 8-bit PNG images with label maps into a temporary dataset, then \
        runs the DataLoader (z-score normalisation, the --preset augmentation, 256² patches, batches \
        of --batch-size) with --workers background threads, one epoch per round, interleaved \
        (BenchMethod) with the stages timed one by one on one thread, to show what limits the \
        total. Rows are ms per image; there is no external reference (the goal is ≥ 2000 images/s).
        """)

    @Option(help: "Image/label pairs written.") var pairs = 64
    @Option(help: "Timed interleaved rounds (one loader epoch and one pass of every stage each).") var rounds = 10
    @Option(help: "Untimed warm-up rounds.") var warmup = 1
    @Option(help: "Batch size.") var batchSize = 32
    @Option(help: "Loader threads.") var workers = 2
    @Option(help: "Augmentation preset: \(AugmentationPreset.names.joined(separator: ", ")).") var preset = "nnunet-default"
    @Option(help: "Folder for the generated files (default: a fresh temporary folder, removed after).") var work: String?
    @Flag(help: "Small sizes (the `bench all` set: 16 pairs, batch 8).") var quick = false
    @Flag(help: "Print JSON (an array of rows, the schema of every bench).") var json = false
    @Option(help: "Instead: memory-mapped preprocessed cases (contour data preprocess layout) of this side, 2D (--preprocessed-rank 2) or 3D, read as --patch patches.")
    var preprocessed: Int?
    @Option(help: "Rank of --preprocessed cases: 2 or 3.") var preprocessedRank = 3
    @Option(help: "Patch side for --preprocessed.") var patch = 128
    @Option(help: "With --preprocessed: none (memory map) or memory (cases copied into memory first, data.cache: memory).") var cache = "none"
    @Option(help: "Instead: train the demo model (`contour demo`'s configuration) this many steps and report the share of step time spent waiting for data.")
    var modelWait: Int?
    @Option(help: "With --model-wait: override a field of the demo configuration, key.path=value (repeatable).") var set: [String] = []

    func run() throws {
        try BenchRecord.emit(try measure(), json: json)
    }

    func measure() throws -> [BenchRecord] {
        let (pairs, batchSize) = quick ? (16, 8) : (self.pairs, self.batchSize)
        guard pairs >= 1, batchSize >= 1, workers >= 1 else {
            throw ValidationError("--pairs, --batch-size and --workers must be ≥ 1")
        }
        if let steps = modelWait { return try measureWait(steps: steps) }
        let method = try BenchMethod(warmup: warmup, rounds: rounds)
        if let side = preprocessed { return try measureMapped(side: side, pairs: pairs, batchSize: batchSize, method: method) }
        let augmentation = try AugmentationPreset(name: preset).augmentation(rank: 2)
        let dir = work ?? (NSTemporaryDirectory() as NSString).appendingPathComponent("contour-bench-data-\(getpid())")
        defer { if work == nil { try? FileManager.default.removeItem(atPath: dir) } }
        try writePairs(to: dir, pairs: pairs)
        let dataset = try Dataset.open(dir)
        let config = DataLoaderConfiguration(batchSize: batchSize, patchSize: [256, 256], augmentation: augmentation,
                                             normalization: .zScore, workers: workers, prefetchBatches: 4, seed: 1)
        let loader = try DataLoader(cases: dataset.training, configuration: config)
        let cases = dataset.training
        let samples = try cases.map { try Sample.load($0) }
        let crop = CropPad(patchSize: [256, 256])
        var normalised = samples[0]
        Normalization.zScore.apply(to: &normalised)
        let batch = Array(samples.prefix(batchSize))
        // Each transform forced on (probability 1), to show where augmentation time goes.
        let forced: [(String, Augmentation)] = [
            ("crop only", Augmentation.none),
            ("rotate+scale", Augmentation(spatial: SpatialTransform(rotationProbability: 1, rotationDegrees: -180...180, scaleProbability: 1, scale: 0.7...1.4))),
            ("mirror", Augmentation(spatial: SpatialTransform(mirrorProbability: 1))),
            ("noise", Augmentation(intensity: [.gaussianNoise(probability: 1, variance: 0...0.1)])),
            ("blur", Augmentation(intensity: [.gaussianBlur(probability: 1, sigma: 0.5...1, perChannelProbability: 1)])),
            ("brightness", Augmentation(intensity: [.brightness(probability: 1, range: 0.75...1.25)])),
            ("contrast", Augmentation(intensity: [.contrast(probability: 1, range: 0.75...1.25, preserveRange: true)])),
            ("low-resolution", Augmentation(intensity: [.lowResolution(probability: 1, zoom: 0.5...1, perChannelProbability: 1)])),
            ("gamma", Augmentation(intensity: [.gamma(probability: 1, range: 0.7...1.5, invert: false, retainStats: true)])),
        ]
        var epoch = 0, loaded = 0, cpu: [Double] = []
        // (row name, images per call, body): ms per image = the arm's ms / images.
        var arms: [(String, Int, () throws -> Void)] = [
            ("loader (\(workers) workers, batch \(batchSize))", pairs, {
                let c0 = Self.cpuMilliseconds()
                loaded = try drain(loader.batches(epoch: epoch))
                epoch += 1
                cpu.append((Self.cpuMilliseconds() - c0) / Double(loaded))
            }),
            ("decode, 1 thread", cases.count, { for c in cases { _ = try Sample.load(c) } }),
            ("PNGFile.readImage, 1 thread", cases.count, { for c in cases { _ = try PNGFile.readImage(path: c.imagePaths[0]) } }),
            ("z-score, 1 thread", samples.count, { for var x in samples { Normalization.zScore.apply(to: &x) } }),
            ("augment \(preset), 1 thread", samples.count, {
                for (i, x) in samples.enumerated() {
                    var rng = SeededGenerator(seed: UInt64(i))
                    _ = try augmentation.apply(x, crop: crop, using: &rng)
                }
            }),
            ("collate, 1 thread", batch.count, { _ = try Batch(samples: batch, epoch: 0, index: 0, landmarkNames: []) }),
        ]
        for (name, aug) in forced {
            arms.append(("only \(name), 1 thread", 8, {
                for i in 0..<8 {
                    var rng = SeededGenerator(seed: UInt64(i))
                    _ = try aug.apply(normalised, crop: crop, using: &rng)
                }
            }))
        }
        let times = try method.run(arms.map { arm -> () throws -> Double in { try BenchMethod.milliseconds(arm.2) } })
        guard loaded > 0 else { throw ValidationError("bench data: an epoch gave no images") }
        let cores = ProcessInfo.processInfo.activeProcessorCount
        return arms.enumerated().map { k, arm in
            let perImage = times[k].map { $0 / Double(k == 0 ? loaded : arm.1) }
            let note = k == 0 ? String(format: "%.0f images/s (goal ≥ 2000 on 2 cores); ", 1e3 / Descriptive.median(perImage)) + Self.cpuNote(cpu) : nil
            return method.record(bench: "data", name: arm.0, size: "256² PNG, ms per image", contour: perImage, reference: nil,
                                 referenceName: "none (throughput goal)", threads: k == 0 ? min(workers, cores) : 1, note: note)
        }
    }

    /// `--preprocessed SIDE`: --pairs cases of SIDE^rank float32 (.npy + CASE.json, a ball/disk of label 1),
    /// loaded by memory map as --patch patches with --preset augmentation; samples/s and the cost of a patch read.
    func measureMapped(side: Int, pairs: Int, batchSize: Int, method: BenchMethod) throws -> [BenchRecord] {
        guard [2, 3].contains(preprocessedRank), side >= 1, patch >= 1 else { throw ValidationError("--preprocessed-rank 2 or 3, positive --preprocessed and --patch") }
        let rank = preprocessedRank
        let shape = [Int](repeating: side, count: rank), size = [Int](repeating: patch, count: rank)
        let dir = work ?? (NSTemporaryDirectory() as NSString).appendingPathComponent("contour-bench-mapped-\(getpid())")
        defer { if work == nil { try? FileManager.default.removeItem(atPath: dir) } }
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try Data("{}\n".utf8).write(to: URL(fileURLWithPath: "\(dir)/preprocess.json"))
        let n = shape.reduce(1, *)
        var rng = SeededGenerator(seed: 7)
        for i in 0..<pairs {
            let id = String(format: "bench_%03d", i)
            let centre = shape.map { _ in Double.random(in: 0.3...0.7, using: &rng) * Double(side) }, radius = Double(side) / 6
            var image = [Float](repeating: 0, count: n), labels = [UInt8](repeating: 0, count: n)
            var locations: [[Int]] = []
            for k in 0..<n {
                var rest = k, d2 = 0.0, index = [Int](repeating: 0, count: rank)
                for a in stride(from: rank - 1, through: 0, by: -1) { index[a] = rest % side; rest /= side; d2 += (Double(index[a]) - centre[a]) * (Double(index[a]) - centre[a]) }
                let inside = d2 <= radius * radius
                labels[k] = inside ? 1 : 0
                image[k] = (inside ? 1 : 0) + Float(rng.gaussian()) * 0.3
                if inside && locations.count < 10_000 && k % 7 == 0 { locations.append(index) }
            }
            let imageBytes = NPYArray(shape: [1] + shape, elements: image).encoded(), labelBytes = NPYArray(shape: shape, elements: labels).encoded()
            try Data(imageBytes).write(to: URL(fileURLWithPath: "\(dir)/\(id).npy"))
            try Data(labelBytes).write(to: URL(fileURLWithPath: "\(dir)/\(id)_seg.npy"))
            try PreprocessedCase(id: id, configuration: "bench", originalShape: shape, originalSpacing: [Double](repeating: 1, count: rank), affine: nil,
                                 cropBox: CropBox(lower: [Int](repeating: 0, count: rank), upper: shape), shape: shape,
                                 spacing: [Double](repeating: 1, count: rank), channels: 1, separateAxis: nil, foregroundLocations: ["1": locations],
                                 imageBytes: imageBytes.count, labelBytes: labelBytes.count).write(path: "\(dir)/\(id).json")
        }
        guard ["none", "memory"].contains(cache) else { throw ValidationError("--cache \(cache): expected none or memory") }
        let mapped = try PreprocessedDataset.open(dir)
        let data = cache == "memory" ? mapped.inMemory() : mapped
        let augmentation = try AugmentationPreset(name: preset).augmentation(rank: rank)
        let config = DataLoaderConfiguration(batchSize: batchSize, patchSize: size, augmentation: augmentation, workers: workers, prefetchBatches: 4, seed: 1)
        let loader = try DataLoader(preprocessed: data, configuration: config)
        var r = SeededGenerator(seed: 1)
        var epoch = 0, loaded = 0, cpu: [Double] = [], consumer: [Double] = []
        let arms: [(String, Int, () throws -> Void)] = [
            ("\(cache == "memory" ? "in-memory" : "mapped") loader (\(workers) workers, batch \(batchSize))", pairs, {
                let c0 = Self.cpuMilliseconds(), t0 = Self.cpuMilliseconds(thread: true)
                loaded = try drain(loader.batches(epoch: epoch))
                epoch += 1
                cpu.append((Self.cpuMilliseconds() - c0) / Double(loaded))
                consumer.append((Self.cpuMilliseconds(thread: true) - t0) / Double((loaded + batchSize - 1) / batchSize))
            }),
            ("patch read, 1 thread", 16, {
                for i in 0..<16 {
                    _ = try data.patch(i % pairs, origin: data.origin(i % pairs, size: size, foregroundProbability: 0.33, using: &r), size: size)
                }
            }),
            ("augment \(preset), 1 thread", rank == 2 ? 32 : 4, {
                for i in 0..<(rank == 2 ? 32 : 4) {
                    // As the loader: the case read by boxes, so rotated patches read around the patch.
                    var g = SeededGenerator(seed: UInt64(i)), b = g
                    _ = try augmentation.apply(data.source(0), origin: [Int](repeating: 0, count: rank), size: size, using: &g, batch: &b)
                }
            }),
        ]
        let times = try method.run(arms.map { arm -> () throws -> Double in { try BenchMethod.milliseconds(arm.2) } })
        guard loaded > 0 else { throw ValidationError("bench data: an epoch gave no samples") }
        let shapeText = "\(shape.map(String.init).joined(separator: "×")) cases, \(size.map(String.init).joined(separator: "×")) patches, ms per sample"
        return arms.enumerated().map { k, arm in
            let perSample = times[k].map { $0 / Double(k == 0 ? loaded : arm.1) }
            let note = k == 0 ? String(format: "%.1f samples/s; ", 1e3 / Descriptive.median(perSample)) + Self.cpuNote(cpu)
                + String(format: "; consumer thread %.3f CPU ms per batch", Descriptive.median(consumer)) : nil
            return method.record(bench: "data", name: arm.0, size: shapeText, contour: perSample, reference: nil,
                                 referenceName: "none (throughput)", threads: k == 0 ? workers : 1, note: note)
        }
    }

    /// `--model-wait STEPS`: the demo model trained STEPS steps (one epoch, no validation) on the
    /// tubular demo data; the trainer's `data_wait` (time in the loader's `next()` over the epoch's
    /// step time, the first step excluded) and the mean step time.
    func measureWait(steps: Int) throws -> [BenchRecord] {
        guard steps >= 2 else { throw ValidationError("--model-wait needs ≥ 2 steps (the first is not timed)") }
        let dir = work ?? (NSTemporaryDirectory() as NSString).appendingPathComponent("contour-bench-wait-\(getpid())")
        defer { if work == nil { try? FileManager.default.removeItem(atPath: dir) } }
        try DemoData.write(kind: .tubular, to: "\(dir)/data", trainCount: 40, testCount: 0, seed: 0)
        let config = try ExperimentConfig.load(yaml: Demo.config, name: "demo configuration", overrides: [
            "data.dataset=\(dir)/data", "run.output=\(dir)/run", "run.epochs=1", "run.iterationsPerEpoch=\(steps)",
            "data.workers=\(workers)", "data.preset=\(preset)",
        ] + set)
        let trainer = try Trainer(config: config, quiet: true)
        let watch = WaitObserver()
        trainer.observers.append(watch)
        _ = try trainer.train(overwrite: true)
        guard let wait = watch.record?.dataWait, watch.stepTimes.count >= 2 else {
            throw ValidationError("bench data --model-wait: the run reported no data_wait")
        }
        let stepMs = Array(watch.stepTimes.dropFirst())
        let c = config.data
        return [BenchRecord(bench: "data", name: "demo model step, waiting for data \(String(format: "%.2f", 100 * wait)) %",
                            size: "\(config.model.name), batch \(c.batchSize) × \(c.patchSize.map(String.init).joined(separator: "×")), \(steps) steps",
                            contourMs: Descriptive.median(stepMs), rounds: stepMs.count, threads: config.run.threads > 0 ? config.run.threads : ProcessInfo.processInfo.activeProcessorCount,
                            reference: "none (goal: 0 % waiting)", note: String(format: "data_wait %.4f of step time", wait))]
    }

    /// CPU time of the process (all threads, user + system) in ms: the loader's cost per sample
    /// whatever share of the cores a loaded machine gives it.
    /// `thread`: the calling thread's alone (the consumer's share: taking batches and releasing them).
    static func cpuMilliseconds(thread: Bool = false) -> Double {
        var u = rusage()
        // 1: RUSAGE_THREAD (Linux), which Swift's Glibc module does not export.
        getrusage(thread ? 1 : RUSAGE_SELF.rawValue, &u)
        return Double(u.ru_utime.tv_sec + u.ru_stime.tv_sec) * 1e3 + Double(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e3
    }

    /// "CPU ms per sample, and the rate that gives on every core of an idle machine".
    static func cpuNote(_ cpu: [Double]) -> String {
        guard !cpu.isEmpty else { return "" }
        let perSample = Descriptive.median(cpu), cores = ProcessInfo.processInfo.activeProcessorCount
        return String(format: "%.3f CPU ms per sample (all threads) → ≈ %.0f samples/s on %d idle cores", perSample, Double(cores) * 1e3 / perSample, cores)
    }

    func drain(_ it: BatchIterator) throws -> Int {
        var n = 0
        while let b = try it.next() { n += b.batchSize }
        return n
    }

    /// Smooth random images with a few disks as labels, plus noise.
    func writePairs(to dir: String, pairs: Int) throws {
        for f in ["imagesTr", "labelsTr"] {
            try FileManager.default.createDirectory(atPath: "\(dir)/\(f)", withIntermediateDirectories: true)
        }
        var rng = SeededGenerator(seed: 7)
        for i in 0..<pairs {
            var image = Grid<UInt16>(shape: [256, 256], repeating: 0)
            var labels = Grid<UInt8>(shape: [256, 256], repeating: 0)
            let disks = (0..<3).map { _ in (Double.random(in: 30...226, using: &rng), Double.random(in: 30...226, using: &rng), Double.random(in: 8...30, using: &rng)) }
            let gy = Double.random(in: -0.2...0.2, using: &rng), gx = Double.random(in: -0.2...0.2, using: &rng)
            for y in 0..<256 {
                for x in 0..<256 {
                    let inside = disks.contains { (Double(y) - $0.0) * (Double(y) - $0.0) + (Double(x) - $0.1) * (Double(x) - $0.1) <= $0.2 * $0.2 }
                    if inside { labels[y, x] = 1 }
                    let v = 90 + (inside ? 60 : 0) + gy * Double(y - 128) + gx * Double(x - 128) + 12 * rng.gaussian()
                    image[y, x] = UInt16(Swift.min(255, Swift.max(0, v.rounded())))
                }
            }
            let id = String(format: "bench_%03d", i)
            try PNGFile.write(image, path: "\(dir)/imagesTr/\(id)_0000.png", sixteenBit: false)
            try ImageFile.writeLabels(labels, path: "\(dir)/labelsTr/\(id).png")
        }
        try DatasetDescription(channelNames: ["gray"], labels: ["background": 0, "disk": 1], numTraining: pairs, fileEnding: ".png")
            .write(path: "\(dir)/dataset.json")
    }
}

/// Collects the epoch record and the wall time between steps.
private final class WaitObserver: TrainingObserver {
    var record: EpochRecord?
    var stepTimes: [Double] = []
    var last = DispatchTime.now().uptimeNanoseconds
    func trainingWillStart(step: Int, resumed: Bool) throws { last = DispatchTime.now().uptimeNanoseconds }
    func stepDidEnd(step: Int, total: Double, losses: [String: Double], weights: [String: Double], learningRate: Double) throws {
        let now = DispatchTime.now().uptimeNanoseconds
        stepTimes.append(Double(now - last) / 1e6)
        last = now
    }
    func epochDidEnd(step: Int, record: EpochRecord) throws { self.record = record }
}
