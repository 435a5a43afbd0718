#if canImport(Glibc)
import Glibc
#endif
import Geometry

/// The procedural demo datasets, each exercising one family of methods.
public enum DemoKind: String, Sendable, CaseIterable {
    /// Vessel-like branching curves (topology: SCNP, clDice, skeleton recall).
    case tubular
    /// Near-convex (label 1) and non-convex (label 2) blobs (Hadwiger shape priors).
    case blobs
    /// Touching rounded cells (roundness).
    case cells
    /// One organ with four landmarks on its boundary; partially labelled (BaBLoss, landmarks).
    case organLandmarks = "organ-landmarks"
    /// A small 3D version of `tubular` (NIfTI volumes).
    case tubular3d
    /// BaBLoss's HPL pair in 3D (64³): landmark-only and segmentation-only training cases of one
    /// anatomy (organ + core, 8 boundary landmarks), with a relations table in dataset.json.
    case organLandmarks3d = "organ-landmarks-3d"
    /// Endoscopy-like 256² RGB scenes with low-contrast, blurred-edge polyps (ConDSeg); three
    /// channel files R, G, B.
    case polyps
    /// One binary label: ellipses, star-convex blobs, C-shapes and thin rims of varied size (HadBalance).
    case shapes
    /// `shapes` in 3D (48³ NIfTI): ellipsoids, star-convex blobs, C-shaped bent tubes and open shells.
    case shapes3d

    public static var names: [String] { allCases.map(\.rawValue) }

    public init(name: String) throws {
        guard let kind = DemoKind(rawValue: name.lowercased()) else {
            throw ImagingError("unknown demo kind \"\(name)\"; valid: \(DemoKind.names.joined(separator: ", "))")
        }
        self = kind
    }

    public var isVolumetric: Bool { self == .tubular3d || self == .organLandmarks3d || self == .shapes3d }
    public var hasLandmarks: Bool { self == .organLandmarks || self == .organLandmarks3d }

    /// `contour data demo`'s default training and test counts.
    public var defaultCounts: (train: Int, test: Int) { self == .shapes || self == .shapes3d ? (60, 20) : (40, 10) }
}

/// One generated case before it is written.
struct DemoCase {
    var image: Grid<Float>
    var labels: Grid<UInt8>
    var landmarks: [String: [Double]] = [:]
    /// Channels after the first (`_0001`, `_0002`, …), for colour kinds.
    var moreChannels: [Grid<Float>] = []
}

/// Writes procedural datasets in the nnU-Net v2 layout (`dataset.json`, `imagesTr/`,
/// `labelsTr/`, `imagesTs/`, plus Contour's `landmarksTr/` and per-case `tasks`), sized for a
/// CPU: 128² 8-bit gray PNGs in 2D (256² R, G, B channel files for `polyps`), 48³ int16 NIfTI volumes in 3D. Test cases also get
/// `labelsTs/` (and `landmarksTs/`) for evaluation. Everything is a function of the seed.
///
/// Images are rendered from the label map with a random per-case contrast, smooth background
/// texture, an intensity bias field, blur and Gaussian noise, so the task is not trivial.
public enum DemoData {
    public static let landmarkNames = ["bottom", "left", "right", "top"]

    @discardableResult
    public static func write(kind: DemoKind, to output: String, trainCount: Int = 40, testCount: Int = 10,
                             seed: UInt64 = 0) throws -> DatasetDescription {
        guard trainCount >= 1, testCount >= 0 else {
            throw ImagingError("demo data needs --count ≥ 1 training cases (got \(trainCount)) and ≥ 0 test cases (got \(testCount))")
        }
        let ending = kind.isVolumetric ? ".nii.gz" : ".png"
        let folders = ["imagesTr", "labelsTr", "imagesTs", "labelsTs"] + (kind.hasLandmarks ? ["landmarksTr", "landmarksTs"] : [])
        let names = kind == .organLandmarks3d ? DemoOrgan3D.landmarkNames : kind == .organLandmarks ? landmarkNames : []
        for f in folders { try FileSystem.makeDirectory("\(output)/\(f)") }
        var tasks: [String: TaskAvailability] = [:]
        for i in 0..<(trainCount + testCount) {
            let training = i < trainCount
            let id = training ? String(format3("case", i)) : String(format3("test", i - trainCount))
            let c = generate(kind: kind, index: i, seed: seed)
            let (images, labels, marks) = training ? ("imagesTr", "labelsTr", "landmarksTr") : ("imagesTs", "labelsTs", "landmarksTs")
            // organ-landmarks: a third of the training cases carry only labels, a third only landmarks.
            // organ-landmarks-3d (HPL): even training cases only landmarks, odd ones only labels.
            var part = 0
            if training && kind == .organLandmarks { part = i % 3 }
            if training && kind == .organLandmarks3d { part = i % 2 == 0 ? 2 : 1 }
            if kind.hasLandmarks && training {
                let fg = Set(DemoData.labels(of: kind).values.filter { $0 != 0 })
                tasks[id] = TaskAvailability(labels: part == 2 ? [] : fg, landmarks: part == 1 ? [] : Set(names))
            }
            for (k, channel) in ([c.image] + c.moreChannels).enumerated() {
                try writeImage(channel, path: "\(output)/\(images)/\(id)_000\(k)\(ending)", volumetric: kind.isVolumetric)
            }
            if part != 2 { try ImageFile.writeLabels(c.labels, path: "\(output)/\(labels)/\(id)\(ending)") }
            if kind.hasLandmarks && part != 1 {
                try Landmarks(points: c.landmarks).write(path: "\(output)/\(marks)/\(id).json")
            }
        }
        let description = DatasetDescription(
            channelNames: kind == .polyps ? ["R", "G", "B"] : [kind.isVolumetric ? "MR" : "gray"], labels: labels(of: kind), numTraining: trainCount,
            fileEnding: ending, landmarkNames: names, tasks: tasks)
        try description.write(path: "\(output)/dataset.json", relations: kind == .organLandmarks3d ? DemoOrgan3D.relations : [:])
        return description
    }

    static func labels(of kind: DemoKind) -> [String: Int] {
        switch kind {
        case .tubular, .tubular3d: return ["background": 0, "vessel": 1]
        case .blobs: return ["background": 0, "convex": 1, "nonconvex": 2]
        case .cells: return ["background": 0, "cell": 1]
        case .organLandmarks: return ["background": 0, "organ": 1]
        case .organLandmarks3d: return ["background": 0, "organ": 1, "core": 2]
        case .polyps: return ["background": 0, "polyp": 1]
        case .shapes, .shapes3d: return ["background": 0, "target": 1]
        }
    }

    static func format3(_ prefix: String, _ i: Int) -> String {
        let s = String(i)
        return "\(prefix)_" + String(repeating: "0", count: Swift.max(0, 3 - s.count)) + s
    }

    /// Case `index` of `kind` for `seed` (the same arguments always give the same case).
    static func generate(kind: DemoKind, index: Int, seed: UInt64) -> DemoCase {
        var rng = SeededGenerator(seed: DataLoader.mix(seed, UInt64(DemoKind.allCases.firstIndex(of: kind)!), UInt64(index)))
        switch kind {
        case .tubular: return DemoTubular.make2D(size: 128, using: &rng)
        case .tubular3d: return DemoTubular.make3D(size: 48, using: &rng)
        case .blobs: return DemoBlobs.makeBlobs(size: 128, using: &rng)
        case .cells: return DemoBlobs.makeCells(size: 128, using: &rng)
        case .organLandmarks: return DemoOrgan.make(size: 128, using: &rng)
        case .organLandmarks3d: return DemoOrgan3D.make(using: &rng)
        case .polyps: return DemoPolyps.make(size: 256, using: &rng)
        case .shapes: return DemoShapes.make(size: 128, rank: 2, using: &rng).0
        case .shapes3d: return DemoShapes.make(size: 48, rank: 3, using: &rng).0
        }
    }

    static func writeImage(_ image: Grid<Float>, path: String, volumetric: Bool) throws {
        if volumetric {
            try NIfTIFile.write(image, path: path, as: .int16)
        } else {
            try PNGFile.write(image.map { UInt16(Swift.min(255, Swift.max(0, $0.rounded()))) }, path: path, sixteenBit: false)
        }
    }

    // MARK: Rendering

    /// Intensity image from a label map: per-class mean, smooth texture, bias field, blur and noise.
    /// `classMeans[v]` is the mean of label v (index 0 = background), on a 0…255 scale.
    static func render(_ labels: Grid<UInt8>, classMeans: [Double], using rng: inout SeededGenerator) -> Grid<Float> {
        var image = labels.map { Float(classMeans[Int($0)]) }
        let shape = labels.shape, rank = labels.rank
        image.storage.withUnsafeMutableBufferPointer { p in
            // Smooth texture (a few voxels' correlation) and a linear bias field.
            var texture = [Float](repeating: 0, count: p.count)
            texture.withUnsafeMutableBufferPointer { t in
                rng.addGaussian(to: t, sigma: 1)
                GaussianSmoothing.smooth(t, shape: shape, sigma: Array(repeating: Double.random(in: 1.5...4, using: &rng), count: rank))
                let amplitude = Float(Double.random(in: 20...45, using: &rng))
                var peak: Float = 1e-6
                for v in t { peak = Swift.max(peak, Swift.abs(v)) }
                for i in 0..<p.count { p[i] += t[i] / peak * amplitude }
            }
            let gradient = (0..<rank).map { _ in Float(Double.random(in: -25...25, using: &rng)) / Float(shape.max()!) }
            let strides = labels.strides
            for i in 0..<p.count {
                var bias: Float = 0
                for a in 0..<rank { bias += gradient[a] * Float((i / strides[a]) % shape[a] - shape[a] / 2) }
                p[i] += bias
            }
            let blur = Double.random(in: 0.6...1.6, using: &rng)
            GaussianSmoothing.smooth(p, shape: shape, sigma: Array(repeating: blur, count: rank))
            rng.addGaussian(to: p, sigma: Float(Double.random(in: 6...16, using: &rng)))
            for i in 0..<p.count { p[i] = Swift.min(255, Swift.max(0, p[i])) }
        }
        return image
    }

    /// Background and per-label means with a random contrast (foreground brighter or darker).
    static func classMeans(labels: Int, using rng: inout SeededGenerator) -> [Double] {
        let background = Double.random(in: 70...130, using: &rng)
        let sign: Double = Double.random(in: 0..<1, using: &rng) < 0.8 ? 1 : -1
        return [background] + (0..<labels).map { _ in background + sign * Double.random(in: 30...75, using: &rng) }
    }

    /// Sets every voxel within `radius` of `center` to `value` (2D disk or 3D ball).
    static func stamp(_ g: inout Grid<UInt8>, center: [Double], radius: Double, value: UInt8) {
        let rank = g.rank, shape = g.shape
        let lo = center.map { Int(($0 - radius).rounded(.down)) }, hi = center.map { Int(($0 + radius).rounded(.up)) }
        let r2 = radius * radius
        g.storage.withUnsafeMutableBufferPointer { p in
            if rank == 2 {
                for y in stride(from: Swift.max(0, lo[0]), through: Swift.min(shape[0] - 1, hi[0]), by: 1) {
                    let dy = Double(y) - center[0]
                    for x in stride(from: Swift.max(0, lo[1]), through: Swift.min(shape[1] - 1, hi[1]), by: 1) {
                        let dx = Double(x) - center[1]
                        if dy * dy + dx * dx <= r2 { p[y * shape[1] + x] = value }
                    }
                }
            } else {
                for z in stride(from: Swift.max(0, lo[0]), through: Swift.min(shape[0] - 1, hi[0]), by: 1) {
                    let dz = Double(z) - center[0]
                    for y in stride(from: Swift.max(0, lo[1]), through: Swift.min(shape[1] - 1, hi[1]), by: 1) {
                        let dy = Double(y) - center[1]
                        for x in stride(from: Swift.max(0, lo[2]), through: Swift.min(shape[2] - 1, hi[2]), by: 1) {
                            let dx = Double(x) - center[2]
                            if dz * dz + dy * dy + dx * dx <= r2 { p[(z * shape[1] + y) * shape[2] + x] = value }
                        }
                    }
                }
            }
        }
    }

    /// Fills the star-shaped region r ≤ radius(θ) around `center` (2D).
    static func fillRadial(_ g: inout Grid<UInt8>, center: [Double], maxRadius: Double, value: UInt8, onlyOver: UInt8? = nil,
                           radius: (Double) -> Double) {
        let h = g.shape[0], w = g.shape[1]
        for y in stride(from: Swift.max(0, Int(center[0] - maxRadius - 1)), through: Swift.min(h - 1, Int(center[0] + maxRadius + 1)), by: 1) {
            for x in stride(from: Swift.max(0, Int(center[1] - maxRadius - 1)), through: Swift.min(w - 1, Int(center[1] + maxRadius + 1)), by: 1) {
                let dy = Double(y) - center[0], dx = Double(x) - center[1]
                let r = (dy * dy + dx * dx).squareRoot()
                if r <= radius(atan2(dy, dx)) && (onlyOver == nil || g[y, x] == onlyOver!) { g[y, x] = value }
            }
        }
    }
}
