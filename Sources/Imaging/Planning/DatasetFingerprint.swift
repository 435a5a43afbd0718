import Geometry

/// What planning needs to know about a dataset (nnU-Net's dataset fingerprint, plus class
/// frequencies): per case the shape and spacing after cropping to the non-zero region, per channel
/// foreground intensity statistics from a seeded sample, and how often each label occurs.
public struct DatasetFingerprint: Sendable, Codable, Equatable {
    public struct CaseEntry: Sendable, Codable, Equatable {
        public var id: String
        public var originalShape: [Int]
        public var shapeAfterCrop: [Int]
        public var spacing: [Double]
    }

    public var channelNames: [String]
    public var cases: [CaseEntry]
    /// One per channel: statistics of the voxels labelled > 0, `samplesPerCase` drawn per case.
    public var foregroundIntensities: [IntensityStatistics]
    /// Label value (as text) → fraction of the cropped voxels of all cases that carry it.
    public var classFrequencies: [String: Double]
    /// Median over cases of cropped voxels / original voxels.
    public var medianRelativeSizeAfterCrop: Double
    public var samplesPerCase: Int
    public var seed: UInt64

    public var rank: Int { cases.first?.spacing.count ?? 0 }

    /// Reads every training case (in parallel over `jobs` threads). Bad input — a channel count
    /// other than dataset.json's, zero/NaN spacing, a single-slice case in a 3D set, shapes that
    /// differ between image and labels — is an error naming the case.
    public static func extract(_ dataset: Dataset, samplesPerCase: Int = 10_000, seed: UInt64 = 1234, jobs: Int = 2,
                               progress: ((Int, Int) -> Void)? = nil) throws -> DatasetFingerprint {
        let cases = dataset.training
        guard !cases.isEmpty else { throw ImagingError("\(dataset.root)/imagesTr: no training cases to plan from") }
        let results = try ParallelCases.map(cases.count, jobs: jobs, progress: progress) { i in
            try measure(cases[i], index: i, channels: dataset.description.channelNames.count, samples: samplesPerCase, seed: seed)
        }
        // Rank checks across cases: 3D sets have no single-slice cases, and no mixed ranks.
        let ranks = Set(results.map { $0.entry.spacing.count })
        if ranks.count > 1 {
            let first2D = results.first { $0.entry.spacing.count == 2 }!.entry.id
            throw ImagingError("\(dataset.root): case \(first2D) is 2D while other cases are 3D; a dataset is all 2D or all 3D")
        }
        if ranks.first == 3, results.count > 1, let flat = results.first(where: { $0.entry.originalShape[0] == 1 }),
           results.contains(where: { $0.entry.originalShape[0] > 1 }) {
            throw ImagingError("\(dataset.root): case \(flat.entry.id) has a single slice (shape \(flat.entry.originalShape)) in a 3D dataset")
        }
        let channelCount = dataset.description.channelNames.count
        var intensities: [IntensityStatistics] = []
        for c in 0..<channelCount {
            let all = results.flatMap { $0.samples[c] }
            guard let s = IntensityStatistics(all) else {
                throw ImagingError("\(dataset.root)/labelsTr: no case has a foreground voxel (label > 0); cannot measure intensities for planning")
            }
            intensities.append(s)
        }
        var counts = [Int](repeating: 0, count: 256)
        for r in results { for v in 0..<256 { counts[v] += r.classCounts[v] } }
        let total = Double(counts.reduce(0, +))
        var frequencies: [String: Double] = [:]
        for v in 0..<256 where counts[v] > 0 { frequencies[String(v)] = Double(counts[v]) / total }
        let relative = results.map { r in
            Double(r.entry.shapeAfterCrop.reduce(1, *)) / Double(r.entry.originalShape.reduce(1, *))
        }.sorted()
        return DatasetFingerprint(channelNames: dataset.description.channelNames, cases: results.map(\.entry),
                                  foregroundIntensities: intensities, classFrequencies: frequencies,
                                  medianRelativeSizeAfterCrop: IntensityStatistics.percentile(relative, 50),
                                  samplesPerCase: samplesPerCase, seed: seed)
    }

    struct Measured: Sendable {
        var entry: CaseEntry
        var samples: [[Float]]
        var classCounts: [Int]
    }

    static func measure(_ c: DatasetCase, index: Int, channels: Int, samples: Int, seed: UInt64) throws -> Measured {
        if let missing = c.imagePaths.firstIndex(where: { !FileSystem.exists($0) }) {
            throw ImagingError("case \(c.id): channel \(missing) (\(c.imagePaths[missing])) is missing; dataset.json declares \(channels) channel(s) per case")
        }
        let image = try Dataset.loadImage(c)
        let spacing = try checkedSpacing(image, c)
        guard image.channels.count == channels else {
            throw ImagingError("case \(c.id): \(image.channels.count) channels, dataset.json declares \(channels) (channel_names)")
        }
        let labels = try Dataset.loadLabels(c)
        if let labels, labels.shape != image.shape {
            throw ImagingError("case \(c.id): label map shape \(labels.shape) differs from the image's \(image.shape)")
        }
        let box = CropBox.nonZero(image.channels)
        let cropped = image.channels.map { box.crop($0) }
        var counts = [Int](repeating: 0, count: 256)
        var perChannel = [[Float]](repeating: [], count: channels)
        if let labels {
            let l = box.crop(labels).storage
            for v in l { counts[Int(v)] += 1 }
            let foreground = l.indices.filter { l[$0] > 0 }
            if !foreground.isEmpty {
                // nnU-Net samples with replacement from the foreground voxels, per case, seeded.
                var rng = SeededGenerator(seed: seed &+ UInt64(index))
                let picks = (0..<samples).map { _ in foreground[Int.random(in: 0..<foreground.count, using: &rng)] }
                for ch in 0..<channels { perChannel[ch] = picks.map { cropped[ch].storage[$0] } }
            }
        }
        return Measured(entry: CaseEntry(id: c.id, originalShape: image.shape, shapeAfterCrop: box.shape, spacing: spacing),
                        samples: perChannel, classCounts: counts)
    }

    /// The spacing as stored, rejecting zero, negative and NaN values (reading alone replaces them with 1).
    static func checkedSpacing(_ image: ImageVolume, _ c: DatasetCase) throws -> [Double] {
        let stored = image.header.nifti?.storedSpacing ?? image.spacing
        let spacing = stored.count == image.shape.count ? stored : image.spacing
        guard spacing.allSatisfy({ $0 > 0 && $0.isFinite }) else {
            throw ImagingError("case \(c.id) (\(c.imagePaths[0])): spacing \(spacing) has a zero, negative or NaN value; fix the file's header (pixdim)")
        }
        return spacing
    }
}
