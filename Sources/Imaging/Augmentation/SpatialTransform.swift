#if canImport(Glibc)
import Glibc
#endif
import Geometry

/// How image values are sampled between voxels (labels are always nearest).
public enum Interpolation: String, Sendable, CaseIterable {
    case nearest, linear, cubic
}

/// Spatial augmentation acting on image, labels and landmarks together.
///
/// Crop/pad, rotation, scaling and elastic deformation are one resampling of the source (as in
/// nnU-Net: the patch is sampled directly from the full image, so nothing is interpolated
/// twice); mirroring and 90° rotations are exact index permutations done afterwards. Landmarks
/// go through the same matrix analytically (and the elastic field by fixed-point inversion).
///
/// Conventions: coordinates are numpy-order voxel indices with voxel centres at integers. The
/// resampling maps an output voxel o to the input point `c_in + M (o − c_out + d(o))`, where
/// `M = scale · R`, `c_out` is the patch centre, `c_in` the matching point of the source and
/// `d` the elastic displacement; a landmark p goes to `c_out + M⁻¹ (p − c_in)`.
public struct SpatialTransform: Sendable {
    /// Axes that may be mirrored (numpy order); nil means every spatial axis.
    public var mirrorAxes: [Int]?
    /// Per-axis probability of a mirror.
    public var mirrorProbability: Double
    /// Probability of rotating by k·90° (k ∈ 1…3) in a plane whose two extents are equal.
    public var rot90Probability: Double
    public var rotationProbability: Double
    /// Angle range in degrees, drawn per plane (one plane in 2D, three in 3D).
    public var rotationDegrees: ClosedRange<Double>
    public var scaleProbability: Double
    /// Zoom factor range; s > 1 samples a larger region (content appears smaller).
    public var scale: ClosedRange<Double>
    public var elastic: ElasticDeformation?
    public var interpolation: Interpolation

    public init(mirrorAxes: [Int]? = nil, mirrorProbability: Double = 0, rot90Probability: Double = 0,
                rotationProbability: Double = 0, rotationDegrees: ClosedRange<Double> = 0...0,
                scaleProbability: Double = 0, scale: ClosedRange<Double> = 1...1,
                elastic: ElasticDeformation? = nil, interpolation: Interpolation = .linear) {
        self.mirrorAxes = mirrorAxes
        self.mirrorProbability = mirrorProbability
        self.rot90Probability = rot90Probability
        self.rotationProbability = rotationProbability
        self.rotationDegrees = rotationDegrees
        self.scaleProbability = scaleProbability
        self.scale = scale
        self.elastic = elastic
        self.interpolation = interpolation
    }

    /// No spatial change (cropping still applies).
    public static let identity = SpatialTransform()

    /// Crops/pads with `crop` (if any), then draws and applies the spatial augmentation.
    public func apply(_ sample: Sample, crop: CropPad?, using rng: inout SeededGenerator) throws -> Sample {
        try sample.validate()
        let rank = sample.rank
        let outShape = crop?.patchSize ?? sample.shape
        guard outShape.count == rank, outShape.allSatisfy({ $0 > 0 }) else {
            throw ImagingError("case \(sample.id): patch size \(outShape) does not fit an image of shape \(sample.shape)")
        }
        let origin = try crop?.origin(for: sample, using: &rng) ?? Array(repeating: 0, count: rank)
        return try apply(SampleSource(sample), origin: origin, size: outShape, using: &rng)
    }

    /// Draws and applies the spatial augmentation to the patch `origin ..< origin + size` of
    /// `source`. Rotation, scaling and elastic deformation sample the case around the patch (a
    /// reader is asked for the box their taps cover, not just the patch), so a memory-mapped case
    /// gives the same patch as the whole case in memory.
    public func apply(_ source: SampleSource, origin: [Int], size outShape: [Int], using rng: inout SeededGenerator) throws -> Sample {
        let rank = source.shape.count
        guard outShape.count == rank, origin.count == rank, outShape.allSatisfy({ $0 > 0 }) else {
            throw ImagingError("patch size \(outShape) at \(origin) does not fit a case of shape \(source.shape)")
        }
        // Draw every decision in a fixed order so a seed always means the same augmentation.
        let planes = rank == 2 ? 1 : 3
        let rotate = Double.random(in: 0..<1, using: &rng) < rotationProbability
        var degrees = [Double](repeating: 0, count: planes)
        for i in 0..<planes { degrees[i] = Double.random(in: rotationDegrees, using: &rng) }
        let doScale = Double.random(in: 0..<1, using: &rng) < scaleProbability
        let factor = Double.random(in: scale, using: &rng)
        var field: [[Float]]?
        if let elastic, Double.random(in: 0..<1, using: &rng) < elastic.probability {
            field = elastic.field(shape: outShape, using: &rng)
        }
        // Mirrors are drawn here (resampling draws nothing) and folded into the resampling's
        // coordinate map or the patch copy: no separate pass over the patch.
        var flips = [Bool](repeating: false, count: rank)
        for axis in mirrorAxes ?? Array(0..<rank) where axis >= 0 && axis < rank {
            flips[axis] = Double.random(in: 0..<1, using: &rng) < mirrorProbability
        }
        var out: Sample
        var plainLabels: Grid<UInt8>?
        if rotate || doScale || field != nil {
            var m = Self.rotationMatrix(rank: rank, degrees: rotate ? degrees : Array(repeating: 0, count: planes))
            if doScale { m = m.map { $0.map { $0 * factor } } }
            let cOut = outShape.map { Double($0 - 1) / 2 }
            let cIn = zip(origin, cOut).map { Double($0) + $1 }
            out = try Self.resample(source, matrix: m, inputCenter: cIn, outputShape: outShape,
                                    displacement: field, interpolation: interpolation, flips: flips)
            if source.keepsUnaugmentedLabels { plainLabels = try source.read(origin: origin, size: outShape).labels }
        } else {
            out = try source.read(origin: origin, size: outShape, flips: flips)
            if source.keepsUnaugmentedLabels {
                plainLabels = flips.contains(true) ? try source.read(origin: origin, size: outShape).labels : out.labels
            }
        }
        let squarePlanes = rank == 2 ? [(0, 1)] : [(1, 2), (0, 2), (0, 1)]
        let eligible = squarePlanes.filter { outShape[$0.0] == outShape[$0.1] }
        let doRot90 = Double.random(in: 0..<1, using: &rng) < rot90Probability
        let k = Int.random(in: 1...3, using: &rng)
        let plane = Int.random(in: 0..<3, using: &rng)
        if doRot90 && !eligible.isEmpty {
            let (a, b) = eligible[plane % eligible.count]
            out = Self.rotate90(out, k: k, axes: (a, b))
        }
        // Cropped like the labels, otherwise untouched.
        if let whole = source.whole {
            out.unaugmentedLabels = whole.unaugmentedLabels.map {
                $0.shape == outShape && origin.allSatisfy { $0 == 0 } ? $0 : CropPad.cropGrid($0, origin: origin, size: outShape, fill: 0)
            }
        } else {
            out.unaugmentedLabels = source.keepsUnaugmentedLabels ? plainLabels : nil
        }
        return out
    }

    // MARK: Exact transforms

    /// Mirrors along `axis` (i → n − 1 − i); landmarks likewise.
    public static func flip(_ sample: Sample, axis: Int) -> Sample {
        var flips = [Bool](repeating: false, count: sample.rank)
        flips[axis] = true
        return permute(sample, permutation: Array(0..<sample.rank), flipped: flips)
    }

    /// numpy's `rot90(m, k, axes=(a, b))` on image, labels and landmarks.
    public static func rotate90(_ sample: Sample, k: Int, axes: (Int, Int)) -> Sample {
        let (a, b) = axes
        var perm = Array(0..<sample.rank), flips = [Bool](repeating: false, count: sample.rank)
        switch ((k % 4) + 4) % 4 {
        case 1: perm[a] = b; perm[b] = a; flips[a] = true
        case 2: flips[a] = true; flips[b] = true
        case 3: perm[a] = b; perm[b] = a; flips[b] = true
        default: return sample
        }
        return permute(sample, permutation: perm, flipped: flips)
    }

    /// A point p of a grid of `shape` after mirroring along the axes where `flips` is set.
    static func mirrored(_ p: [Double], flips: [Bool]?, shape: [Int]) -> [Double] {
        guard let flips else { return p }
        return p.indices.map { flips[$0] ? Double(shape[$0] - 1) - p[$0] : p[$0] }
    }

    /// Output axis d is input axis `permutation[d]`, reversed where `flipped[d]`.
    public static func permute(_ sample: Sample, permutation: [Int], flipped: [Bool]) -> Sample {
        var out = sample
        out.image = sample.image.map { permuteGrid($0, permutation: permutation, flipped: flipped) }
        out.labels = sample.labels.map { permuteGrid($0, permutation: permutation, flipped: flipped) }
        out.pseudoLabels = sample.pseudoLabels.map { permuteGrid($0, permutation: permutation, flipped: flipped) }
        let shape = sample.shape
        out.landmarks = sample.landmarks?.mapValues { p in
            (0..<p.count).map { d in
                let a = permutation[d]
                return flipped[d] ? Double(shape[a] - 1) - p[a] : p[a]
            }
        }
        return out
    }

    static func permuteGrid<T>(_ g: Grid<T>, permutation: [Int], flipped: [Bool]) -> Grid<T> {
        let rank = g.rank
        let outShape = permutation.map { g.shape[$0] }
        let inStrides = g.strides
        var step = [Int](repeating: 0, count: 3), base = 0
        var ext = [Int](repeating: 1, count: 3)
        for d in 0..<rank {
            let s = inStrides[permutation[d]]
            step[3 - rank + d] = flipped[d] ? -s : s
            ext[3 - rank + d] = outShape[d]
            if flipped[d] { base += (outShape[d] - 1) * s }
        }
        guard let first = g.storage.first else { return g }
        var storage = [T](repeating: first, count: g.count)
        g.storage.withUnsafeBufferPointer { src in
            storage.withUnsafeMutableBufferPointer { dst in
                var o = 0
                for z in 0..<ext[0] {
                    for y in 0..<ext[1] {
                        var i = base + z * step[0] + y * step[1]
                        let sx = step[2]
                        for _ in 0..<ext[2] { dst[o] = src[i]; o += 1; i += sx }
                    }
                }
            }
        }
        return try! Grid(shape: outShape, spacing: permutation.map { g.spacing[$0] }, storage: storage)
    }

    // MARK: Resampling

    /// Far outside is still outside; the bound keeps Int conversions in the interpolator safe.
    @inline(__always) static func clampCoordinate(_ p: Double) -> Float {
        Float(Swift.min(1e6, Swift.max(-1e6, p.isNaN ? -1e6 : p)))
    }

    /// Rotation by per-plane angles: 2D one angle in the (0, 1) plane; 3D R = R(1,2) · R(0,2) · R(0,1).
    public static func rotationMatrix(rank: Int, degrees: [Double]) -> [[Double]] {
        func planeRotation(_ a: Int, _ b: Int, _ deg: Double) -> [[Double]] {
            var m = (0..<rank).map { i in (0..<rank).map { $0 == i ? 1.0 : 0.0 } }
            let t = deg * Double.pi / 180, c = cos(t), s = sin(t)
            m[a][a] = c; m[a][b] = -s; m[b][a] = s; m[b][b] = c
            return m
        }
        if rank == 2 { return planeRotation(0, 1, degrees.first ?? 0) }
        return multiply(multiply(planeRotation(1, 2, degrees[0]), planeRotation(0, 2, degrees[1])), planeRotation(0, 1, degrees[2]))
    }

    static func multiply(_ a: [[Double]], _ b: [[Double]]) -> [[Double]] {
        (0..<a.count).map { i in (0..<b[0].count).map { j in (0..<b.count).reduce(0) { $0 + a[i][$1] * b[$1][j] } } }
    }

    /// Inverse of a 2×2 or 3×3 matrix (adjugate / determinant).
    static func inverse(_ m: [[Double]]) throws -> [[Double]] {
        if m.count == 2 {
            let d = m[0][0] * m[1][1] - m[0][1] * m[1][0]
            guard abs(d) > 1e-300 else { throw ImagingError("singular spatial transform \(m)") }
            return [[m[1][1] / d, -m[0][1] / d], [-m[1][0] / d, m[0][0] / d]]
        }
        var inv = [[Double]](repeating: [0, 0, 0], count: 3)
        for i in 0..<3 {
            for j in 0..<3 {
                let r = [(j + 1) % 3, (j + 2) % 3], c = [(i + 1) % 3, (i + 2) % 3]
                inv[i][j] = m[r[0]][c[0]] * m[r[1]][c[1]] - m[r[0]][c[1]] * m[r[1]][c[0]]
            }
        }
        let d = (0..<3).reduce(0.0) { $0 + m[0][$1] * inv[$1][0] }
        guard abs(d) > 1e-300 else { throw ImagingError("singular spatial transform \(m)") }
        return inv.map { $0.map { $0 / d } }
    }

    /// One resampling of image (with `interpolation`) and labels (nearest) into `outputShape`;
    /// outside the source reads 0. See the type's comment for the mapping.
    public static func resample(_ sample: Sample, matrix m: [[Double]], inputCenter cIn: [Double], outputShape: [Int],
                                displacement: [[Float]]? = nil, interpolation: Interpolation = .linear) throws -> Sample {
        try sample.validate()
        return try resample(SampleSource(sample), matrix: m, inputCenter: cIn, outputShape: outputShape,
                            displacement: displacement, interpolation: interpolation)
    }

    /// As `resample(_ sample:…)`; a reader is asked only for the box the taps cover, and the
    /// coordinates are shifted into it by its integer origin, which is exact in Float (the origin is
    /// ≤ every shifted coordinate), so every weight and tap is the whole-case one.
    /// With `flips`, the result is mirrored along those output axes (landmarks too), as
    /// `permute` would after it, by sampling the mirrored coordinates: the same values, one pass.
    public static func resample(_ source: SampleSource, matrix m: [[Double]], inputCenter cIn: [Double], outputShape: [Int],
                                displacement: [[Float]]? = nil, interpolation: Interpolation = .linear, flips: [Bool]? = nil) throws -> Sample {
        let rank = source.shape.count
        guard m.count == rank, m.allSatisfy({ $0.count == rank }), cIn.count == rank, outputShape.count == rank,
              (flips?.count ?? rank) == rank else {
            throw ImagingError("a \(rank)D transform needs a \(rank)×\(rank) matrix and \(rank) centre coordinates")
        }
        let flips = flips?.contains(true) == true ? flips : nil
        let n = outputShape.reduce(1, *)
        var coords = sourceCoordinates(matrix: m, inputCenter: cIn, outputShape: outputShape, displacement: displacement, flips: flips)
        if let whole = source.whole {
            return try resample(whole, coordinates: coords, matrix: m, inputCenter: cIn, outputShape: outputShape,
                                displacement: displacement, interpolation: interpolation, flips: flips)
        }
        let box = SampleSource.tapBox(coords, count: n, shape: source.shape)
        let window = try source.read(origin: box.origin, size: box.size)
        try window.validate()
        coords.withUnsafeMutableBufferPointer { c in
            for a in 0..<rank where box.origin[a] != 0 {
                let o = Float(box.origin[a])
                for i in (a * n)..<((a + 1) * n) { c[i] -= o }
            }
        }
        return try resample(window, coordinates: coords, matrix: m, inputCenter: zip(cIn, box.origin).map { $0 - Double($1) },
                            outputShape: outputShape, displacement: displacement, interpolation: interpolation, flips: flips)
    }

    /// Source coordinates of every output voxel, axis-major (rank × n); with `flips`, those of
    /// the output mirrored along the flipped axes (the same values, permuted).
    static func sourceCoordinates(matrix m: [[Double]], inputCenter cIn: [Double], outputShape: [Int], displacement: [[Float]]?,
                                  flips: [Bool]? = nil) -> [Float] {
        let rank = outputShape.count
        let n = outputShape.reduce(1, *)
        let cOut = outputShape.map { Double($0 - 1) / 2 }
        let ext3 = rank == 3 ? outputShape : [1] + outputShape
        let c3 = rank == 3 ? cOut : [0] + cOut, in3 = rank == 3 ? cIn : [0] + cIn
        let f3 = rank == 3 ? (flips ?? [false, false, false]) : [false] + (flips ?? [false, false])
        // The matrix as 3×3 (a 2D map acts on the last two axes).
        var m3 = [Double](repeating: 0, count: 9)
        m3[0] = 1
        for r in 0..<rank { for a in 0..<rank { m3[(r + 3 - rank) * 3 + a + 3 - rank] = m[r][a] } }
        // Per axis: output index → its (mirrored) offset from the output centre.
        let offsets: [[Double]] = (0..<3).map { a in (0..<ext3[a]).map { i in Double(f3[a] ? ext3[a] - 1 - i : i) - c3[a] } }
        let fields: [[Float]] = displacement.map { rank == 3 ? $0 : [[Float](repeating: 0, count: n)] + $0 } ?? []
        let w = ext3[2], first = 3 - rank
        return [Float](unsafeUninitializedCapacity: rank * n) { c, initialised in
            let base = c.baseAddress!
            offsets[2].withUnsafeBufferPointer { ox in
                var i = 0
                for z in 0..<ext3[0] {
                    for y in 0..<ext3[1] {
                        let oz0 = offsets[0][z], oy0 = offsets[1][y]
                        if fields.isEmpty {
                            // Row by row, the x term last (the per-voxel formula's order): vectorises.
                            for r in first..<3 {
                                let a = in3[r] + m3[r * 3] * oz0 + m3[r * 3 + 1] * oy0, mx = m3[r * 3 + 2]
                                let dst = base + (r - first) * n + i
                                for x in 0..<w { dst[x] = clampCoordinate(a + mx * ox[x]) }
                            }
                        } else {
                            let row = ((f3[0] ? ext3[0] - 1 - z : z) * ext3[1] + (f3[1] ? ext3[1] - 1 - y : y)) * w
                            for x in 0..<w {
                                let j = row + (f3[2] ? w - 1 - x : x)
                                let oz = oz0 + Double(fields[0][j]), oy = oy0 + Double(fields[1][j]), oxj = ox[x] + Double(fields[2][j])
                                for r in first..<3 {
                                    base[(r - first) * n + i + x] = clampCoordinate(in3[r] + m3[r * 3] * oz + m3[r * 3 + 1] * oy + m3[r * 3 + 2] * oxj)
                                }
                            }
                        }
                        i += w
                    }
                }
            }
            initialised = rank * n
        }
    }

    /// Samples `sample` at `coords` (its own voxel frame); landmarks go through the inverse map.
    static func resample(_ sample: Sample, coordinates coords: [Float], matrix m: [[Double]], inputCenter cIn: [Double], outputShape: [Int],
                         displacement: [[Float]]?, interpolation: Interpolation, flips: [Bool]? = nil) throws -> Sample {
        let rank = sample.rank, n = outputShape.reduce(1, *)
        let cOut = outputShape.map { Double($0 - 1) / 2 }
        var out = sample
        out.image = try sample.image.map { g in
            try Grid(shape: outputShape, spacing: g.spacing, storage: Interpolator.sample(g, at: coords, count: n, method: interpolation))
        }
        if let labels = sample.labels {
            out.labels = try Grid(shape: outputShape, spacing: labels.spacing, storage: Interpolator.nearest(labels, at: coords, count: n))
        }
        if let pseudo = sample.pseudoLabels {
            out.pseudoLabels = try Grid(shape: outputShape, spacing: pseudo.spacing, storage: Interpolator.nearest(pseudo, at: coords, count: n))
        }
        if let points = sample.landmarks {
            let inv = try inverse(m)
            var moved: [String: [Double]] = [:]
            for (name, p) in points {
                var q = cOut
                for r in 0..<rank { for a in 0..<rank { q[r] += inv[r][a] * (p[a] - cIn[a]) } }
                if let displacement { q = ElasticDeformation.invert(q, field: displacement, shape: outputShape) }
                moved[name] = mirrored(q, flips: flips, shape: outputShape)
            }
            out.landmarks = moved
        }
        return out
    }
}
