#if canImport(Glibc)
import Glibc
#endif
import Geometry

/// `contour data preprocess`: each training case cropped to its non-zero region, normalised per the
/// plan, resampled to the configuration's spacing, and written as `CASE.npy` (float32 [C, …]),
/// `CASE_seg.npy` (uint8) and `CASE.json` (with the case's landmarks, if any) into one folder. A
/// case is complete when its CASE.json exists and the arrays have the sizes it records; CASE.json
/// is written last, each file by rename, so an interrupted run leaves no case half-written, and a
/// rerun skips complete cases.
public struct Preprocessor: Sendable {
    public var plans: ExperimentPlans
    public var configurationName: String
    public var configuration: ConfigurationPlan
    public var labelMode: Resampling.LabelMode
    public var samplesPerClass = 10_000
    public var minClassCoverage = 0.01
    public var seed: UInt64 = 1234

    public init(plans: ExperimentPlans, configuration: String, plansPath: String, labelMode: Resampling.LabelMode? = nil) throws {
        self.plans = plans
        configurationName = configuration
        self.configuration = try plans.configuration(configuration, path: plansPath)
        self.labelMode = labelMode ?? self.configuration.labelResampling
    }

    public struct Summary: Sendable {
        public var written: [String]
        public var skipped: [String]
    }

    /// Preprocesses every training case of `dataset` into `output` on `jobs` threads.
    public func run(_ dataset: Dataset, output: String, jobs: Int = 2, progress: ((Int, Int) -> Void)? = nil) throws -> Summary {
        try FileSystem.makeDirectory(output)
        // The folder belongs to one plan and configuration; resuming with another would mix cases.
        let marker = "\(output)/preprocess.json"
        let settings = Array("{\"configuration\": \"\(configurationName)\", \"labels\": \"\(labelMode.rawValue)\"}\n".utf8)
        if FileSystem.exists(marker) {
            let existing = try FileSystem.read(marker)
            guard existing == settings else {
                throw ImagingError("\(output): holds cases preprocessed with \(String(decoding: existing, as: UTF8.self).trimmingSuffix()), "
                                   + "not configuration \(configurationName) with --labels \(labelMode.rawValue); use another --output")
            }
            if FileSystem.exists("\(output)/plans.json"), try ExperimentPlans.read(path: "\(output)/plans.json") != plans {
                throw ImagingError("\(output): holds cases preprocessed with a different plans file (\(output)/plans.json); use another --output")
            }
        }
        try FileSystem.writeAtomically(settings, to: marker)
        try plans.write(path: "\(output)/plans.json")
        try dataset.description.write(path: "\(output)/dataset.json")
        let cases = dataset.training
        let results = try ParallelCases.map(cases.count, jobs: jobs, progress: progress) { i -> Bool in
            let landmarks = cases[i].landmarkPath.map(FileSystem.exists) ?? false
            if Self.isComplete(cases[i].id, in: output, landmarks: landmarks) { return false }
            try process(cases[i], index: i, output: output)
            return true
        }
        return Summary(written: zip(cases, results).filter { $0.1 }.map { $0.0.id }, skipped: zip(cases, results).filter { !$0.1 }.map { $0.0.id })
    }

    /// CASE.json readable, both arrays of the sizes it records, and (when `landmarks` is given) the
    /// landmarks present or absent as the case's landmark file is (folders from before landmarks were kept).
    public static func isComplete(_ id: String, in folder: String, landmarks: Bool? = nil) -> Bool {
        guard let c = try? PreprocessedCase.read(path: "\(folder)/\(id).json") else { return false }
        if let landmarks, landmarks != (c.landmarks != nil) { return false }
        return fileSize("\(folder)/\(id).npy") == c.imageBytes && (c.labelBytes.map { fileSize("\(folder)/\(id)_seg.npy") == $0 } ?? true)
    }

    static func fileSize(_ path: String) -> Int? {
        var st = stat()
        return stat(path, &st) == 0 ? Int(st.st_size) : nil
    }

    /// The target spacing of a case: the configuration's along its axes, the case's own elsewhere
    /// (`2d` of a 3D set resamples in-plane only).
    public func targetSpacing(for spacing: [Double]) -> [Double] {
        var target = spacing
        for (k, a) in configuration.axes.enumerated() { target[a] = configuration.spacing[k] }
        return target
    }

    /// A case cropped, normalised and resampled: `image` is [C, shape…] (C-order), `labels` [shape…].
    public struct Prepared: Sendable {
        public var image: [Float]
        public var labels: [UInt8]?
        public var geometry: PreprocessedCase
    }

    /// Crop → normalise (on the cropped source, as nnU-Net) → resample; `geometry` records how to undo
    /// it and the `landmarks` (source voxels) moved into the stored arrays.
    public func prepare(_ image: ImageVolume, labels: Grid<UInt8>?, landmarks: [String: [Double]]? = nil, id: String,
                        source: String) throws -> Prepared {
        let channels = plans.normalization.count
        guard image.channels.count == channels else {
            throw ImagingError("case \(id): \(image.channels.count) channels, the plan has \(channels) (\(plans.normalization.map(\.channel).joined(separator: ", ")))")
        }
        let stored = image.header.nifti?.storedSpacing ?? image.spacing
        let spacing = stored.count == image.shape.count ? stored : image.spacing
        guard spacing.allSatisfy({ $0 > 0 && $0.isFinite }) else {
            throw ImagingError("case \(id) (\(source)): spacing \(spacing) has a zero, negative or NaN value; fix the file's header (pixdim)")
        }
        guard spacing.count == plans.fingerprint.rank else {
            throw ImagingError("case \(id): a \(spacing.count)D image in a \(plans.fingerprint.rank)D plan")
        }
        if spacing.count == 3, image.shape[0] == 1, plans.fingerprint.cases.contains(where: { $0.originalShape[0] > 1 }) {
            throw ImagingError("case \(id) has a single slice (shape \(image.shape)) in a 3D dataset")
        }
        if let labels, labels.shape != image.shape {
            throw ImagingError("case \(id): label map shape \(labels.shape) differs from the image's \(image.shape)")
        }
        let box = CropBox.nonZero(image.channels)
        let cropped = image.channels.map { box.crop($0) }
        let croppedShape = box.shape
        var nonZero = [Bool](repeating: false, count: croppedShape.reduce(1, *))
        for ch in cropped { for i in ch.storage.indices where ch.storage[i] != 0 { nonZero[i] = true } }
        let target = targetSpacing(for: spacing)
        let newShape = Resampling.newShape(croppedShape, spacing: spacing, target: target)
        guard newShape.allSatisfy({ $0 >= 1 }) else {
            throw ImagingError("case \(id): resampling \(croppedShape) from \(spacing) to \(target) mm leaves an empty axis")
        }
        let separate = Resampling.separateAxis(current: spacing, target: target, threshold: plans.anisotropyThreshold)
        var data: [Float] = []
        data.reserveCapacity(channels * newShape.reduce(1, *))
        for (k, ch) in cropped.enumerated() {
            var values = ch.storage
            plans.normalization[k].apply(&values, nonZero: nonZero)
            data += Resampling.resize(values, shape: croppedShape, to: newShape, order: 3, separateAxis: separate)
        }
        let resampledLabels = labels.map {
            Resampling.resizeLabels(box.crop($0).storage, shape: croppedShape, to: newShape, mode: labelMode, separateAxis: separate)
        }
        var geometry = PreprocessedCase(id: id, configuration: configurationName, originalShape: image.shape, originalSpacing: spacing,
                                        affine: image.header.affine, cropBox: box, shape: newShape, spacing: target, channels: channels,
                                        separateAxis: separate, foregroundLocations: [:], imageBytes: 0, labelBytes: nil)
        geometry.landmarks = landmarks?.mapValues { Self.landmark($0, geometry: geometry) }
        return Prepared(image: data, labels: resampledLabels, geometry: geometry)
    }

    /// A source landmark (numpy-order voxel) in the stored arrays: shifted by the crop, then through
    /// the resize's mapping (output o samples input (o + ½)·n/m − ½, so p ↦ (p + ½)·m/n − ½ for n
    /// cropped and m stored voxels; m/n is the spacing ratio up to the rounding of the new shape).
    public static func landmark(_ p: [Double], geometry g: PreprocessedCase) -> [Double] {
        let n = g.cropBox.shape
        return p.indices.map { a in (p[a] - Double(g.cropBox.lower[a]) + 0.5) * Double(g.shape[a]) / Double(n[a]) - 0.5 }
    }

    /// Class probabilities [K, shape…] of a prepared case back to the source geometry: each class
    /// resampled linearly to the cropped shape (order 0 along a separate axis, as nnU-Net's export),
    /// the argmax taken, and the crop undone (background 0 outside the box).
    public static func restore(probabilities: [Float], classes: Int, geometry g: PreprocessedCase) -> Grid<UInt8> {
        let n = g.shape.reduce(1, *), target = g.cropBox.shape, m = target.reduce(1, *)
        var best = [Float](repeating: -.infinity, count: m)
        var labels = [UInt8](repeating: 0, count: m)
        for k in 0..<classes {
            let p = Array(probabilities[(k * n)..<((k + 1) * n)])
            let r = Resampling.resize(p, shape: g.shape, to: target, order: 1, separateAxis: g.separateAxis)
            for i in 0..<m where r[i] > best[i] { best[i] = r[i]; labels[i] = UInt8(k) }
        }
        let cropped = try! Grid(shape: target, spacing: g.originalSpacing, storage: labels)
        return g.cropBox.uncrop(cropped, into: g.originalShape, fill: 0)
    }

    public func process(_ c: DatasetCase, index: Int, output: String) throws {
        if let missing = c.imagePaths.firstIndex(where: { !FileSystem.exists($0) }) {
            throw ImagingError("case \(c.id): channel \(missing) (\(c.imagePaths[missing])) is missing; the plan has \(plans.normalization.count) channel(s) per case")
        }
        let image = try Dataset.loadImage(c)
        let landmarks = try Dataset.loadLandmarks(c, rank: image.shape.count, header: image.header)
        var prepared = try prepare(image, labels: try Dataset.loadLabels(c), landmarks: landmarks?.points, id: c.id, source: c.imagePaths[0])
        let shape = prepared.geometry.shape
        let imageArray = NPYArray(shape: [prepared.geometry.channels] + shape, elements: prepared.image).encoded()
        if let labels = prepared.labels {
            prepared.geometry.foregroundLocations = foregroundLocations(labels, shape: shape, index: index)
            let encoded = NPYArray(shape: shape, elements: labels).encoded()
            prepared.geometry.labelBytes = encoded.count
            try FileSystem.writeAtomically(encoded, to: "\(output)/\(c.id)_seg.npy")
        }
        try FileSystem.writeAtomically(imageArray, to: "\(output)/\(c.id).npy")
        prepared.geometry.imageBytes = imageArray.count
        try prepared.geometry.write(path: "\(output)/\(c.id).json")
    }

    /// Per foreground class, min(10 000, n) of its n voxels but at least 1 %, drawn without
    /// replacement with a per-case seed (nnU-Net's class locations).
    func foregroundLocations(_ labels: [UInt8], shape: [Int], index: Int) -> [String: [[Int]]] {
        var byClass = [[Int]](repeating: [], count: 256)
        for i in labels.indices where labels[i] > 0 { byClass[Int(labels[i])].append(i) }
        var rng = SeededGenerator(seed: seed &+ UInt64(index))
        var strides = [Int](repeating: 1, count: shape.count)
        for a in stride(from: shape.count - 2, through: 0, by: -1) { strides[a] = strides[a + 1] * shape[a + 1] }
        var out: [String: [[Int]]] = [:]
        for v in 1..<256 where !byClass[v].isEmpty {
            var all = byClass[v]
            let n = Swift.max(Swift.min(samplesPerClass, all.count), Int((Double(all.count) * minClassCoverage).rounded(.up)))
            for k in 0..<n { all.swapAt(k, Int.random(in: k..<all.count, using: &rng)) }
            out[String(v)] = all.prefix(n).sorted().map { flat in strides.enumerated().map { (flat / $1) % shape[$0] } }
        }
        return out
    }
}

private extension String {
    func trimmingSuffix() -> String { String(self.reversed().drop { $0 == "\n" }.reversed()) }
}
