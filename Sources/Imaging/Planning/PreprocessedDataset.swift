import FoundationEssentials
import Geometry

/// The output folder of `contour data preprocess`, opened by memory map: each case's image and labels
/// stay on disk and a patch reads only its rows. Patches are drawn with nnU-Net's foreground
/// oversampling from the locations stored in CASE.json.
public struct PreprocessedDataset: Sendable {
    public let folder: String
    /// The folder's plans.json (absent in folders written by other tools, e.g. `contour bench data`).
    public let plans: ExperimentPlans?
    public let cases: [PreprocessedCase]
    /// The configuration preprocess.json records (nil in folders written by other tools).
    public let configuration: String?
    let images: [MappedNPY]
    let labels: [MappedNPY?]
    /// The folder's dataset.json: what each case is annotated for, as the raw files' loader says.
    let description: DatasetDescription?
    /// Whether every array was copied into memory (`inMemory()`).
    public let isResident: Bool

    /// Opens every complete case (all, or those in `ids`); an incomplete case is an error naming it.
    public static func open(_ folder: String, ids: [String]? = nil) throws -> PreprocessedDataset {
        guard FileSystem.exists("\(folder)/preprocess.json") else {
            throw ImagingError("\(folder): not a preprocessed folder (no preprocess.json; write one with `contour data preprocess`)")
        }
        let plans = FileSystem.exists("\(folder)/plans.json") ? try ExperimentPlans.read(path: "\(folder)/plans.json") : nil
        struct Settings: Decodable { var configuration: String? }
        let settings = try? JSONDecoder().decode(Settings.self, from: Data(try FileSystem.read("\(folder)/preprocess.json")))
        let description = FileSystem.exists("\(folder)/dataset.json") ? try DatasetDescription.read(path: "\(folder)/dataset.json") : nil
        let names = try FileSystem.list(folder).filter { $0.hasSuffix(".json") && !["plans.json", "dataset.json", "preprocess.json"].contains($0) }
        let all = names.map { String($0.dropLast(5)) }
        let wanted = ids ?? all
        var cases: [PreprocessedCase] = [], images: [MappedNPY] = [], labels: [MappedNPY?] = []
        for id in wanted {
            guard Preprocessor.isComplete(id, in: folder) else {
                throw ImagingError("\(folder): case \(id) is missing or incomplete; rerun `contour data preprocess` to finish it")
            }
            let c = try PreprocessedCase.read(path: "\(folder)/\(id).json")
            cases.append(c)
            images.append(try MappedNPY(path: "\(folder)/\(id).npy"))
            labels.append(c.labelBytes == nil ? nil : try MappedNPY(path: "\(folder)/\(id)_seg.npy"))
        }
        guard !cases.isEmpty else { throw ImagingError("\(folder): no preprocessed cases") }
        return PreprocessedDataset(folder: folder, plans: plans, cases: cases, configuration: settings?.configuration,
                                   images: images, labels: labels, description: description, isResident: false)
    }

    /// Opens the cases `ids` of a folder that must have been written by `contour data preprocess`
    /// for configuration `configuration` of `plans` (read from `plansPath`); otherwise an error
    /// naming the folder and what it holds instead.
    public static func open(_ folder: String, ids: [String]? = nil, plans: ExperimentPlans, plansPath: String,
                            configuration: String) throws -> PreprocessedDataset {
        guard FileSystem.exists(folder) else {
            throw ImagingError("\(folder): no such preprocessed folder; write it with `contour data preprocess DATASET --plans \(plansPath) "
                               + "--configuration \(configuration) --output \(folder)`")
        }
        let d = try open(folder, ids: ids)
        guard d.configuration == configuration else {
            throw ImagingError("\(folder): holds configuration \(d.configuration ?? "(none recorded)"), not \(configuration) of \(plansPath); "
                               + "preprocess \(configuration) into another folder")
        }
        guard d.plans == plans else {
            throw ImagingError("\(folder): was preprocessed with another plan (\(folder)/plans.json differs from \(plansPath)); "
                               + "rerun `contour data preprocess` with --plans \(plansPath) into another folder")
        }
        return d
    }

    /// The same cases with every array copied into memory once (small 2D sets: `data.cache: memory`).
    public func inMemory() -> PreprocessedDataset {
        PreprocessedDataset(folder: folder, plans: plans, cases: cases, configuration: configuration,
                            images: images.map { $0.resident() }, labels: labels.map { $0?.resident() }, description: description,
                            isResident: true)
    }

    /// Bytes of every case's arrays.
    public var byteCount: Int { cases.reduce(0) { $0 + $1.imageBytes + ($1.labelBytes ?? 0) } }

    /// Case `i` whole: its image (float32 channels at the stored spacing) and its labels.
    public func whole(_ i: Int) throws -> Sample {
        try patch(i, origin: [Int](repeating: 0, count: cases[i].shape.count), size: cases[i].shape)
    }

    /// Case `i` as augmentation reads it: by boxes (`patch`).
    public func source(_ i: Int) -> SampleSource {
        SampleSource(shape: cases[i].shape, mirroredRead: { origin, size, flips in try patch(i, origin: origin, size: size, flips: flips) })
    }

    /// The patch `origin ..< origin + size` of case `i` as a sample (zero outside the case;
    /// landmarks shifted by −origin), mirrored along the axes where `flips` is set (in the copy).
    public func patch(_ i: Int, origin: [Int], size: [Int], flips: [Bool]? = nil) throws -> Sample {
        let c = cases[i]
        guard size.count == c.shape.count, origin.count == size.count, (flips?.count ?? size.count) == size.count,
              images[i].scalarType == .float32 else {
            throw ImagingError("\(folder)/\(c.id).npy: a \(c.shape.count)D float32 case, asked for a \(size.count)D patch")
        }
        let spacing = c.spacing
        let image = try (0..<c.channels).map {
            try Grid(shape: size, spacing: spacing, storage: images[i].patch(Float.self, leading: $0, origin: origin, size: size, flips: flips))
        }
        let l = try labels[i].map { try Grid(shape: size, spacing: spacing, storage: $0.patch(UInt8.self, origin: origin, size: size, flips: flips)) }
        let landmarks = c.landmarks?.mapValues { p in SpatialTransform.mirrored(zip(p, origin).map { $0 - Double($1) }, flips: flips, shape: size) }
        let tasks = description?.availability(of: c.id)
            ?? TaskAvailability(labels: Set(c.foregroundLocations.keys.compactMap(Int.init)), landmarks: Set(c.landmarks?.keys.map { $0 } ?? []))
        return Sample(id: c.id, image: image, labels: l, landmarks: landmarks, tasks: tasks)
    }

    /// A patch origin for case `i`: with probability `foregroundProbability`, centred on a stored
    /// voxel of a uniformly chosen class the case has; else uniform. Draws as `CropPad.origin`, so
    /// with every foreground voxel stored it places the patch where the raw path does.
    public func origin(_ i: Int, size: [Int], foregroundProbability: Double, using rng: inout SeededGenerator) -> [Int] {
        origin(i, size: size, foreground: Double.random(in: 0..<1, using: &rng) < foregroundProbability, using: &rng)
    }

    /// A patch origin for case `i`: `foreground` centres it on a stored voxel of a uniformly chosen
    /// class the case has (uniform when it has none, as nnU-Net); else uniform. The bounds are the
    /// raw path's (`CropPad.bounds`: a case smaller than the patch is padded symmetrically).
    public func origin(_ i: Int, size: [Int], foreground: Bool, using rng: inout SeededGenerator) -> [Int] {
        let c = cases[i]
        let (lower, upper) = CropPad.bounds(shape: c.shape, patchSize: size)
        let classes = c.foregroundLocations.keys.sorted { (Int($0) ?? 0) < (Int($1) ?? 0) }.filter { !(c.foregroundLocations[$0]?.isEmpty ?? true) }
        if foreground, !classes.isEmpty {
            let locations = c.foregroundLocations[classes[Int.random(in: 0..<classes.count, using: &rng)]]!
            let v = locations[Int.random(in: 0..<locations.count, using: &rng)]
            return (0..<size.count).map { Swift.min(Swift.max(v[$0] - size[$0] / 2, lower[$0]), upper[$0]) }
        }
        // The raw path's draws (`CropPad.origin`), so both place a uniform patch alike.
        return (0..<size.count).map { Int.random(in: lower[$0]...upper[$0], using: &rng) }
    }
}
