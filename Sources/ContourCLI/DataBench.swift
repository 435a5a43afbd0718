import ArgumentParser
import Foundation
import Geometry
import Imaging

/// `contour bench data`: throughput of the data pipeline on 256² PNG image/label pairs.
struct DataBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "data",
        abstract: "Time decode + augment + batch of 256² PNG image/label pairs (images/s; goal ≥ 2000 on 2 cores).",
        discussion: """
        Writes --pairs random 256² 8-bit PNG images with label maps into a temporary dataset, then \
        runs the DataLoader (z-score normalisation, the --preset augmentation, 256² patches, batches \
        of --batch-size) with --workers background threads until --images images have been \
        batched, after one warm-up epoch. Also times the stages one by one on one thread, to show \
        what limits the total.
        """)

    @Option(help: "Image/label pairs written.") var pairs = 64
    @Option(help: "Images timed.") var images = 2048
    @Option(help: "Batch size.") var batchSize = 32
    @Option(help: "Loader threads.") var workers = 2
    @Option(help: "Augmentation preset: \(AugmentationPreset.names.joined(separator: ", ")).") var preset = "nnunet-default"
    @Option(help: "Folder for the generated files (default: a fresh temporary folder, removed after).") var work: String?
    @Flag(help: "Print JSON.") var json = false
    @Option(help: "Instead: memory-mapped preprocessed cases (contour data preprocess layout) of this side, 2D (--preprocessed-rank 2) or 3D, read as --patch patches.")
    var preprocessed: Int?
    @Option(help: "Rank of --preprocessed cases: 2 or 3.") var preprocessedRank = 3
    @Option(help: "Patch side for --preprocessed.") var patch = 128
    @Option(help: "With --preprocessed: none (memory map) or memory (cases copied into memory first, data.cache: memory).") var cache = "none"

    func run() throws {
        guard pairs >= 1, images >= 1, batchSize >= 1, workers >= 1 else {
            throw ValidationError("--pairs, --images, --batch-size and --workers must be ≥ 1")
        }
        if let side = preprocessed { return try runMapped(side: side) }
        let augmentation = try AugmentationPreset(name: preset).augmentation(rank: 2)
        let dir = work ?? (NSTemporaryDirectory() as NSString).appendingPathComponent("contour-bench-data-\(getpid())")
        defer { if work == nil { try? FileManager.default.removeItem(atPath: dir) } }
        try writePairs(to: dir)
        let dataset = try Dataset.open(dir)
        let config = DataLoaderConfiguration(batchSize: batchSize, patchSize: [256, 256], augmentation: augmentation,
                                             normalization: .zScore, workers: workers, prefetchBatches: 4, seed: 1)
        let loader = try DataLoader(cases: dataset.training, configuration: config)

        let (done, seconds) = try timeEpochs(loader)
        let throughput = Double(done) / seconds

        // One thread, stage by stage, on the same cases.
        let cases = dataset.training
        let decode = try time(cases.count) { i in _ = try Sample.load(cases[i]) }
        let pngOnly = try time(cases.count) { i in _ = try PNGFile.readImage(path: cases[i].imagePaths[0]) }
        let samples = try cases.map { try Sample.load($0) }
        let normalise = try time(cases.count) { i in var s = samples[i]; Normalization.zScore.apply(to: &s) }
        let crop = CropPad(patchSize: [256, 256])
        let augment = try time(cases.count * 4) { i in
            var rng = SeededGenerator(seed: UInt64(i))
            _ = try augmentation.apply(samples[i % samples.count], crop: crop, using: &rng)
        }
        let batch = Array(samples.prefix(batchSize))
        let collate = try time(8) { _ in _ = try Batch(samples: batch, epoch: 0, index: 0, landmarkNames: []) } / Double(batch.count)
        let cores = ProcessInfo.processInfo.activeProcessorCount
        // Each transform forced on (probability 1), ms per image, to show where augmentation time goes.
        var normalised = samples[0]
        Normalization.zScore.apply(to: &normalised)
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
        var stageCosts: [(String, Double)] = []
        for (name, aug) in forced {
            stageCosts.append((name, try time(16) { i in
                var rng = SeededGenerator(seed: UInt64(i))
                _ = try aug.apply(normalised, crop: crop, using: &rng)
            } * 1e3))
        }

        if json {
            let out: [String: Any] = [
                "images_per_second": throughput, "images": done, "seconds": seconds, "workers": workers,
                "batch_size": batchSize, "preset": preset, "cores": cores, "goal_images_per_second": 2000,
                "single_thread_ms_per_image": ["decode": decode * 1e3, "normalise": normalise * 1e3, "augment": augment * 1e3,
                                               "collate": collate * 1e3, "png_read_one_file": pngOnly * 1e3],
                "ms_per_image_when_applied": Dictionary(uniqueKeysWithValues: stageCosts),
            ]
            let data = try JSONSerialization.data(withJSONObject: out, options: [.prettyPrinted, .sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        } else {
            print("data pipeline, 256² PNG image + label, preset \(preset), batch \(batchSize), \(workers) workers, \(cores) cores")
            print(String(format: "  %.0f images/s (%d images in %.2f s; goal ≥ 2000)", throughput, done, seconds))
            print(String(format: "  one thread, ms per image: decode %.3f (of which one PNGFile.readImage %.3f), z-score %.3f, augment %.3f, collate %.3f",
                         decode * 1e3, pngOnly * 1e3, normalise * 1e3, augment * 1e3, collate * 1e3))
            print("  augmentation stages when applied, ms: " + stageCosts.map { String(format: "%@ %.3f", $0.0, $0.1) }.joined(separator: ", "))
        }
    }

    /// `--preprocessed SIDE`: --pairs cases of SIDE^rank float32 (.npy + CASE.json, a ball/disk of label 1),
    /// loaded by memory map as --patch patches with --preset augmentation; samples/s and the cost of a patch read.
    func runMapped(side: Int) throws {
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
        let (done, seconds) = try timeEpochs(loader)
        var r = SeededGenerator(seed: 1)
        let read = try time(16) { i in
            _ = try data.patch(i % pairs, origin: data.origin(i % pairs, size: size, foregroundProbability: 0.33, using: &r), size: size)
        }
        let sample = try data.patch(0, origin: [Int](repeating: 0, count: rank), size: size)
        let augment = try time(4) { i in
            var g = SeededGenerator(seed: UInt64(i))
            _ = try augmentation.apply(sample, crop: nil, using: &g)
        }
        let rate = Double(done) / seconds
        if json {
            let out: [String: Any] = ["samples_per_second": rate, "samples": done, "seconds": seconds, "workers": workers, "batch_size": batchSize,
                                      "preset": preset, "case_shape": shape, "patch": size, "cases": pairs, "cache": cache,
                                      "single_thread_ms": ["patch_read": read * 1e3, "augment": augment * 1e3]]
            print(String(decoding: try JSONSerialization.data(withJSONObject: out, options: [.prettyPrinted, .sortedKeys]), as: UTF8.self))
        } else {
            print("data pipeline, memory-mapped preprocessed \(shape.map(String.init).joined(separator: "×")) float32 cases (\(pairs)), "
                  + "\(size.map(String.init).joined(separator: "×")) patches, preset \(preset), batch \(batchSize), \(workers) workers, cache \(cache)")
            print(String(format: "  %.1f samples/s (%d samples in %.2f s); one thread, ms per sample: patch read %.3f, augment %.3f",
                         rate, done, seconds, read * 1e3, augment * 1e3))
        }
    }

    /// A warm-up epoch, then whole epochs timed until `images` samples went through: (samples, seconds).
    func timeEpochs(_ loader: DataLoader) throws -> (Int, Double) {
        _ = try drain(loader.batches(epoch: 0))
        var done = 0, epoch = 1
        let start = DispatchTime.now().uptimeNanoseconds
        while done < images {
            done += try drain(loader.batches(epoch: epoch))
            epoch += 1
        }
        return (done, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
    }

    func drain(_ it: BatchIterator) throws -> Int {
        var n = 0
        while let b = try it.next() { n += b.batchSize }
        return n
    }

    /// Seconds per call of `body` over `n` calls.
    func time(_ n: Int, _ body: (Int) throws -> Void) throws -> Double {
        let start = DispatchTime.now().uptimeNanoseconds
        for i in 0..<n { try body(i) }
        return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 / Double(n)
    }

    /// Smooth random images with a few disks as labels, plus noise.
    func writePairs(to dir: String) throws {
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
