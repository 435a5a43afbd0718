import XCTest
import Geometry
@testable import Imaging

/// A 2D or 3D sample whose image holds each voxel's flat index, with a marker value at each
/// landmark's (integer) voxel and labels = index % 5.
func markerSample(shape: [Int], landmarks: [String: [Int]], channels: Int = 1) -> Sample {
    var image = Grid<Float>(shape: shape, repeating: 0)
    for i in 0..<image.count { image.storage[i] = Float(i) }
    let strides = image.strides
    for (k, name) in landmarks.keys.sorted().enumerated() {
        let p = landmarks[name]!
        image.storage[zip(p, strides).map(*).reduce(0, +)] = Float(-1000 - k)
    }
    let labels = image.map { UInt8(Int(Swift.abs($0)) % 5) }
    return Sample(id: "m", image: Array(repeating: image, count: channels), labels: labels,
                  landmarks: landmarks.mapValues { $0.map(Double.init) })
}

/// Value of `grid` at integer coordinates.
func value(_ grid: Grid<Float>, _ p: [Double]) -> Float {
    let idx = p.map { Int($0.rounded()) }
    return grid.storage[zip(idx, grid.strides).map(*).reduce(0, +)]
}

final class AugmentationTests: XCTestCase {
    func testFlipMovesImageLabelsAndLandmarksTogether() {
        let s = markerSample(shape: [5, 7], landmarks: ["a": [1, 3], "b": [4, 0]])
        for axis in 0..<2 {
            let f = SpatialTransform.flip(s, axis: axis)
            XCTAssertEqual(f.shape, [5, 7])
            let a = f.landmarks!["a"]!, b = f.landmarks!["b"]!
            XCTAssertEqual(a, axis == 0 ? [3, 3] : [1, 3])
            XCTAssertEqual(b, axis == 0 ? [0, 0] : [4, 6])
            XCTAssertEqual(value(f.image[0], a), -1000)
            XCTAssertEqual(value(f.image[0], b), -1001)
            // out[y, x] = in[y, 6 − x] along axis 1
            if axis == 1 { XCTAssertEqual(f.image[0][2, 1], s.image[0][2, 5]) }
            XCTAssertEqual(f.labels!.storage, f.image[0].storage.map { UInt8(Int(Swift.abs($0)) % 5) })
        }
        // Fractional landmarks: p → n − 1 − p exactly.
        var frac = s
        frac.landmarks = ["c": [1.25, 3.5]]
        XCTAssertEqual(SpatialTransform.flip(frac, axis: 1).landmarks!["c"]!, [1.25, 2.5])
    }

    func testRot90MatchesNumpyAndMovesLandmarksExactly() {
        let s = markerSample(shape: [4, 6], landmarks: ["a": [1, 4]])
        let m = s.image[0]
        for k in 1...3 {
            let r = SpatialTransform.rotate90(s, k: k, axes: (0, 1))
            // numpy: rot90 k=1 → out[i, j] = m[j, W−1−i]; k=2 → m[H−1−i, W−1−j]; k=3 → m[H−1−j, i]
            for i in 0..<r.shape[0] {
                for j in 0..<r.shape[1] {
                    let want: Float
                    switch k {
                    case 1: want = m[j, 5 - i]
                    case 2: want = m[3 - i, 5 - j]
                    default: want = m[3 - j, i]
                    }
                    XCTAssertEqual(r.image[0][i, j], want)
                }
            }
            let p = r.landmarks!["a"]!
            let analytic: [Double]
            switch k {
            case 1: analytic = [1, 1]   // (W−1−p1, p0)
            case 2: analytic = [2, 1]   // (H−1−p0, W−1−p1)
            default: analytic = [4, 2]  // (p1, H−1−p0)
            }
            XCTAssertEqual(p, analytic)
            XCTAssertEqual(value(r.image[0], p), -1000)
        }
        // 3D, every plane: the marker stays under its landmark.
        let v = markerSample(shape: [3, 4, 4], landmarks: ["a": [2, 1, 3], "b": [0, 3, 0]])
        for axes in [(0, 1), (0, 2), (1, 2)] {
            for k in 1...3 {
                let r = SpatialTransform.rotate90(v, k: k, axes: axes)
                XCTAssertEqual(value(r.image[0], r.landmarks!["a"]!), -1000)
                XCTAssertEqual(value(r.image[0], r.landmarks!["b"]!), -1001)
            }
        }
    }

    func testAffineLandmarksFollowTheAnalyticMap() throws {
        let s = markerSample(shape: [21, 25], landmarks: ["a": [5, 7], "b": [15, 20]])
        let theta = 30.0, scale = 1.25
        let m = SpatialTransform.rotationMatrix(rank: 2, degrees: [theta]).map { $0.map { $0 * scale } }
        let cIn = [10.0, 12.0], outShape = [19, 23]
        let r = try SpatialTransform.resample(s, matrix: m, inputCenter: cIn, outputShape: outShape)
        // Analytic inverse: q = c_out + (1/s) R(−θ) (p − c_in)
        let t = theta * Double.pi / 180, cOut = [9.0, 11.0]
        for (name, p) in s.landmarks! {
            let d = [p[0] - cIn[0], p[1] - cIn[1]]
            let q = [cOut[0] + (cos(t) * d[0] + sin(t) * d[1]) / scale, cOut[1] + (-sin(t) * d[0] + cos(t) * d[1]) / scale]
            XCTAssertEqual(r.landmarks![name]![0], q[0], accuracy: 1e-12)
            XCTAssertEqual(r.landmarks![name]![1], q[1], accuracy: 1e-12)
            // and forward through the same matrix lands back on p
            let o = [q[0] - cOut[0], q[1] - cOut[1]]
            XCTAssertEqual(cIn[0] + m[0][0] * o[0] + m[0][1] * o[1], p[0], accuracy: 1e-12)
            XCTAssertEqual(cIn[1] + m[1][0] * o[0] + m[1][1] * o[1], p[1], accuracy: 1e-12)
        }
        // Labels through nearest keep their value set.
        XCTAssertTrue(Set(r.labels!.storage).isSubset(of: Set(s.labels!.storage).union([0])))
        // R(+90°) maps output offsets to input offsets, so the content turns like numpy rot90 k=3.
        let sq = markerSample(shape: [7, 7], landmarks: ["a": [1, 5]])
        let rot = try SpatialTransform.resample(sq, matrix: SpatialTransform.rotationMatrix(rank: 2, degrees: [90]),
                                               inputCenter: [3, 3], outputShape: [7, 7])
        let exact = SpatialTransform.rotate90(sq, k: 3, axes: (0, 1))
        for (a, b) in zip(rot.image[0].storage, exact.image[0].storage) { XCTAssertEqual(a, b, accuracy: 1e-3) }
        XCTAssertEqual(rot.labels!.storage, exact.labels!.storage)
        XCTAssertEqual(rot.landmarks!["a"]![0], exact.landmarks!["a"]![0], accuracy: 1e-12)
        XCTAssertEqual(rot.landmarks!["a"]![1], exact.landmarks!["a"]![1], accuracy: 1e-12)
    }

    func testAffine3DLandmarkIsExactInverse() throws {
        let s = markerSample(shape: [9, 10, 11], landmarks: ["a": [2, 3, 4]])
        let m = SpatialTransform.rotationMatrix(rank: 3, degrees: [20, -15, 40])
        // Orthonormal: M Mᵀ = I
        let mmT = SpatialTransform.multiply(m, m.indices.map { i in m.indices.map { m[$0][i] } })
        for i in 0..<3 { for j in 0..<3 { XCTAssertEqual(mmT[i][j], i == j ? 1 : 0, accuracy: 1e-12) } }
        let r = try SpatialTransform.resample(s, matrix: m, inputCenter: [4, 4.5, 5], outputShape: [9, 10, 11])
        let q = r.landmarks!["a"]!
        let o = [q[0] - 4, q[1] - 4.5, q[2] - 5]
        for a in 0..<3 {
            XCTAssertEqual(s.landmarks!["a"]![a], [4, 4.5, 5][a] + (0..<3).reduce(0) { $0 + m[a][$1] * o[$1] }, accuracy: 1e-12)
        }
    }

    func testElasticLandmarkFollowsTheImage() throws {
        // A bright blob at the landmark; after deformation its peak stays under the landmark.
        var image = Grid<Float>(shape: [48, 48], repeating: 0)
        for y in 0..<48 { for x in 0..<48 {
            let d2 = Float((y - 20) * (y - 20) + (x - 27) * (x - 27))
            image[y, x] = exp(-d2 / 8)
        } }
        let s = Sample(id: "e", image: [image], landmarks: ["p": [20, 27]])
        let t = SpatialTransform(elastic: ElasticDeformation(probability: 1, magnitude: 4...4, sigma: 6...6))
        var rng = SeededGenerator(seed: 3)
        let out = try t.apply(s, crop: nil, using: &rng)
        let q = out.landmarks!["p"]!
        let peak = out.image[0].storage.indices.max { out.image[0].storage[$0] < out.image[0].storage[$1] }!
        XCTAssertEqual(Double(peak / 48), q[0], accuracy: 1.01)
        XCTAssertEqual(Double(peak % 48), q[1], accuracy: 1.01)
        XCTAssertNotEqual(out.image[0].storage, image.storage)
    }

    func testPresetsAreDeterministicPerSeed() throws {
        var rgb = markerSample(shape: [32, 32], landmarks: ["a": [5, 9]], channels: 3)
        for c in 0..<3 { Normalization.unitRange(maximum: 1024).apply(to: &rgb.image[c]) }
        for preset in AugmentationPreset.allCases {
            let aug = preset.augmentation(rank: 2)
            let crop = CropPad(patchSize: [24, 24])
            func run(_ seed: UInt64) throws -> ([Float], [UInt8], [Double]) {
                var rng = SeededGenerator(seed: seed)
                let s = try aug.apply(rgb, crop: crop, using: &rng)
                return (s.image.flatMap(\.storage), s.labels!.storage, s.landmarks!["a"]!)
            }
            let a = try run(7), b = try run(7), c = try run(8)
            XCTAssertEqual(a.0, b.0, preset.rawValue)
            XCTAssertEqual(a.1, b.1, preset.rawValue)
            XCTAssertEqual(a.2, b.2, preset.rawValue)
            XCTAssertTrue(a.0 != c.0 || a.2 != c.2, preset.rawValue)
        }
        let v = markerSample(shape: [12, 12, 12], landmarks: ["a": [5, 6, 7]])
        let aug = AugmentationPreset.nnunetDefault.augmentation(rank: 3)
        var r1 = SeededGenerator(seed: 1), r2 = SeededGenerator(seed: 1)
        XCTAssertEqual(try aug.apply(v, crop: CropPad(patchSize: [8, 8, 8]), using: &r1).image[0].storage,
                       try aug.apply(v, crop: CropPad(patchSize: [8, 8, 8]), using: &r2).image[0].storage)
    }

    func testPresetNamesParseAndUnknownListsValidNames() throws {
        XCTAssertEqual(try AugmentationPreset(name: "nnunet-default"), .nnunetDefault)
        XCTAssertEqual(try AugmentationPreset(name: "condseg-strong"), .condsegStrong)
        XCTAssertEqual(try AugmentationPreset(name: "condseg-stage1"), .condsegStage1)
        XCTAssertEqual(try AugmentationPreset(name: "condseg"), .condseg)
        XCTAssertEqual(try AugmentationPreset(name: "none"), AugmentationPreset.none)
        XCTAssertThrowsError(try AugmentationPreset(name: "heavy")) { e in
            let text = "\(e)"
            XCTAssertTrue(text.contains("heavy") && text.contains("nnunet-default") && text.contains("condseg-strong") && text.contains("none"), text)
        }
    }

    func testCoarseDropoutBlanksBoxesOfTheImageOnly() throws {
        // One 4×4 hole in a 10×10 image of ones: 16 zeros in a square, in every channel; labels untouched.
        let labels = Grid<UInt8>(shape: [10, 10], repeating: 1)
        var s = Sample(id: "d", image: [Grid(shape: [10, 10], repeating: 1), Grid(shape: [10, 10], repeating: 2)], labels: labels)
        var rng = SeededGenerator(seed: 4)
        IntensityTransform.coarseDropout(probability: 1, holes: 1, size: 4, fill: 0).apply(to: &s, using: &rng)
        for c in 0..<2 {
            let zeros = (0..<100).filter { s.image[c].storage[$0] == 0 }
            XCTAssertEqual(zeros.count, 16)
            let ys = zeros.map { $0 / 10 }, xs = zeros.map { $0 % 10 }
            XCTAssertEqual(ys.max()! - ys.min()!, 3)
            XCTAssertEqual(xs.max()! - xs.min()!, 3)
        }
        XCTAssertEqual(s.labels, labels)
        // Holes larger than the image cover it; ten 32² holes leave a 256² image mostly intact.
        IntensityTransform.coarseDropout(probability: 1, holes: 1, size: 32, fill: 0).apply(to: &s, using: &rng)
        XCTAssertEqual(s.image[0].storage, Array(repeating: 0, count: 100))
        var big = Sample(id: "b", image: [Grid(shape: [256, 256], repeating: 1)])
        IntensityTransform.coarseDropout(probability: 1, holes: 10, size: 32, fill: 0).apply(to: &big, using: &rng)
        let blank = big.image[0].storage.filter { $0 == 0 }.count
        XCTAssertTrue((1024...10240).contains(blank), "\(blank)")
    }

    func testForegroundOversamplingRate() throws {
        var labels = Grid<UInt8>(shape: [64, 64], repeating: 0)
        labels[2, 2] = 1; labels[2, 3] = 1; labels[3, 2] = 1; labels[3, 3] = 1
        let s = Sample(id: "fg", image: [labels.map(Float.init)], labels: labels)
        func rate(_ p: Double) throws -> Double {
            let crop = CropPad(patchSize: [16, 16], foregroundProbability: p)
            var rng = SeededGenerator(seed: 11)
            var hits = 0
            for _ in 0..<3000 where try crop.apply(s, using: &rng).labels!.storage.contains(1) { hits += 1 }
            return Double(hits) / 3000
        }
        // Random patches catch the 2×2 corner object with probability (3/49)² ≈ 0.004.
        XCTAssertEqual(try rate(0.33), 0.33 + 0.67 * 0.0037, accuracy: 0.03)
        XCTAssertLessThan(try rate(0), 0.015)
        XCTAssertEqual(try rate(1), 1)
    }

    /// A kept unaugmented label map is cropped with the sample but never rotated or flipped.
    func testUnaugmentedLabelsAreCroppedNotTransformed() throws {
        var s = markerSample(shape: [12, 12], landmarks: [:])
        s.unaugmentedLabels = s.labels
        let t = SpatialTransform(mirrorAxes: [0, 1], mirrorProbability: 1, rotationProbability: 1, rotationDegrees: 30...30)
        var rng = SeededGenerator(seed: 3)
        let crop = CropPad(patchSize: [8, 8], foregroundProbability: 0)
        let out = try t.apply(s, crop: crop, using: &rng)
        var again = SeededGenerator(seed: 3)
        let origin = try crop.origin(for: s, using: &again)
        let expected = CropPad.cropGrid(s.labels!, origin: origin, size: [8, 8], fill: 0)
        XCTAssertEqual(out.unaugmentedLabels?.storage, expected.storage)
        XCTAssertNotEqual(out.labels?.storage, expected.storage, "the labels themselves were transformed")
        // Whole images, no crop: the original map, unchanged.
        let whole = try t.apply(s, crop: nil, using: &rng)
        XCTAssertEqual(whole.unaugmentedLabels?.storage, s.labels!.storage)
        // Collated in the batch, absent when not kept.
        XCTAssertEqual(try Batch(samples: [out, out], epoch: 0, index: 0, landmarkNames: []).unaugmentedLabels, expected.storage + expected.storage)
        var plain = s
        plain.unaugmentedLabels = nil
        XCTAssertNil(try Batch(samples: [try t.apply(plain, crop: crop, using: &rng)], epoch: 0, index: 0, landmarkNames: []).unaugmentedLabels)
    }

    func testCropPadIsExactAndPadsWithZero() throws {
        let s = markerSample(shape: [10, 10], landmarks: ["a": [4, 6]])
        let c = try CropPad.crop(s, origin: [-3, 2], size: [16, 5])
        XCTAssertEqual(c.shape, [16, 5])
        XCTAssertEqual(c.landmarks!["a"]!, [7, 4])
        XCTAssertEqual(value(c.image[0], [7, 4]), -1000)
        XCTAssertEqual(c.image[0][0, 0], 0)       // padding
        XCTAssertEqual(c.image[0][3, 0], s.image[0][0, 2])
        XCTAssertEqual(c.labels![15, 4], 0)
        // An image smaller than the patch is padded symmetrically around it (nnU-Net's bounds).
        var rng = SeededGenerator(seed: 0)
        let o = try CropPad(patchSize: [16, 16], foregroundProbability: 0).origin(for: s, using: &rng)
        XCTAssertEqual(o, [-3, -3])
    }

    func testNormalisationValues() throws {
        var g = try Grid(shape: [2, 2], storage: [1, 2, 3, 4] as [Float])
        Normalization.zScore.apply(to: &g)
        let sd = Float(1.25.squareRoot())
        for (v, x) in zip(g.storage, [1, 2, 3, 4] as [Float]) { XCTAssertEqual(v, (x - 2.5) / sd, accuracy: 1e-6) }
        // Larger random channel: mean 0, std 1.
        var rng = SeededGenerator(seed: 5)
        var r = try Grid(shape: [40, 50], storage: (0..<2000).map { _ in Float(rng.gaussian() * 7 + 3) })
        Normalization.zScore.apply(to: &r)
        let (m, s) = Normalization.meanStd(r.storage)
        XCTAssertEqual(m, 0, accuracy: 1e-6)
        XCTAssertEqual(s, 1, accuracy: 1e-5)
        var w = try Grid(shape: [1, 4], storage: [-2000, -1000, -300, 1000] as [Float])
        try Normalization(parsing: "window:-1000,400").apply(to: &w)
        XCTAssertEqual(w.storage, [0, 0, 0.5, 1])
        var ct = try Grid(shape: [1, 3], storage: [-2000, 100, 5000] as [Float])
        try Normalization(parsing: "ct:-1000,3000,100,50").apply(to: &ct)
        XCTAssertEqual(ct.storage, [-22, 0, 58])
        var rgb = try Grid(shape: [1, 3], storage: [0, 51, 255] as [Float])
        try Normalization(parsing: "rgb").apply(to: &rgb)
        for (a, b) in zip(rgb.storage, [0, 0.2, 1] as [Float]) { XCTAssertEqual(a, b, accuracy: 1e-6) }
        // numpy.percentile(arange(101), [0.5, 99.5]) == [0.5, 99.5]
        let (lo, hi) = Normalization.percentiles((0...100).map(Float.init), 0.5, 99.5)
        XCTAssertEqual(lo, 0.5, accuracy: 1e-6)
        XCTAssertEqual(hi, 99.5, accuracy: 1e-6)
        XCTAssertThrowsError(try Normalization(parsing: "window:3")) { XCTAssertTrue("\($0)".contains("window:3")) }
        XCTAssertThrowsError(try Normalization(parsing: "minmax")) { XCTAssertTrue("\($0)".contains("zscore")) }
    }

    func testIntensityTransforms() throws {
        var rng = SeededGenerator(seed: 9)
        let base = try Grid(shape: [100, 100], storage: (0..<10_000).map { _ in Float(rng.gaussian()) * 2 + 5 })
        var s = Sample(id: "i", image: [base])
        // Brightness multiplies exactly by one factor.
        IntensityTransform.brightness(probability: 1, range: 1.2...1.2).apply(to: &s, using: &rng)
        for (a, b) in zip(s.image[0].storage, base.storage) { XCTAssertEqual(a, b * 1.2, accuracy: 1e-5) }
        // Gamma with retained statistics keeps mean and std.
        s = Sample(id: "i", image: [base])
        IntensityTransform.gamma(probability: 1, range: 1.5...1.5, invert: false, retainStats: true).apply(to: &s, using: &rng)
        let (m0, s0) = Normalization.meanStd(base.storage), (m1, s1) = Normalization.meanStd(s.image[0].storage)
        XCTAssertEqual(m1, m0, accuracy: 1e-3)
        XCTAssertEqual(s1, s0, accuracy: 1e-3)
        XCTAssertNotEqual(s.image[0].storage, base.storage)
        // Noise of variance 0.25 adds std 0.5.
        let zero = Grid<Float>(shape: [200, 200], repeating: 0)
        s = Sample(id: "n", image: [zero])
        IntensityTransform.gaussianNoise(probability: 1, variance: 0.25...0.25).apply(to: &s, using: &rng)
        let (mn, sn) = Normalization.meanStd(s.image[0].storage)
        XCTAssertEqual(mn, 0, accuracy: 0.01)
        XCTAssertEqual(sn, 0.5, accuracy: 0.01)
        // Blur keeps a constant image and the sum of an interior impulse.
        var impulse = Grid<Float>(shape: [31, 31], repeating: 0)
        impulse[15, 15] = 1
        s = Sample(id: "b", image: [impulse])
        IntensityTransform.gaussianBlur(probability: 1, sigma: 1.5...1.5, perChannelProbability: 1).apply(to: &s, using: &rng)
        XCTAssertEqual(s.image[0].storage.reduce(0, +), 1, accuracy: 1e-5)
        XCTAssertEqual(s.image[0][15, 15], 1 / (2 * Float.pi * 2.25), accuracy: 2e-3)
        // Contrast with preserved range stays within the old min/max.
        s = Sample(id: "c", image: [base])
        IntensityTransform.contrast(probability: 1, range: 1.5...1.5, preserveRange: true).apply(to: &s, using: &rng)
        let (lo, hi) = IntensityTransform.extrema(base.storage), (lo2, hi2) = IntensityTransform.extrema(s.image[0].storage)
        XCTAssertGreaterThanOrEqual(lo2, lo)
        XCTAssertLessThanOrEqual(hi2, hi)
        // Low resolution of a constant image is that constant.
        s = Sample(id: "l", image: [Grid(shape: [20, 20], repeating: 3)])
        IntensityTransform.lowResolution(probability: 1, zoom: 0.5...0.5, perChannelProbability: 1).apply(to: &s, using: &rng)
        XCTAssertEqual(s.image[0].storage, Array(repeating: 3, count: 400))
    }

    /// nnU-Net v2 draws brightness, contrast and gamma per channel (`synchronize_channels=False`):
    /// each channel gets its own factor, drawn in channel order; one channel draws as before.
    func testBrightnessContrastAndGammaDrawPerChannel() throws {
        var rng = SeededGenerator(seed: 4)
        let base = try Grid(shape: [40, 40], storage: (0..<1600).map { _ in Float(rng.gaussian()) + 5 })
        let transforms: [IntensityTransform] = [.brightness(probability: 1, range: 0.5...1.5),
                                                .contrast(probability: 1, range: 0.5...1.5, preserveRange: false),
                                                .gamma(probability: 1, range: 0.7...1.5, invert: false, retainStats: false)]
        for t in transforms {
            var two = Sample(id: "two", image: [base, base])
            var one = Sample(id: "one", image: [base])
            var r2 = SeededGenerator(seed: 11), r1 = SeededGenerator(seed: 11)
            t.apply(to: &two, using: &r2)
            t.apply(to: &one, using: &r1)
            XCTAssertEqual(two.image[0].storage, one.image[0].storage, "\(t): the first channel draws as a one-channel sample")
            XCTAssertNotEqual(two.image[0].storage, two.image[1].storage, "\(t): equal channels got one factor")
        }
        // Brightness: each channel is its input times one factor of its own, inside the range.
        var s = Sample(id: "b", image: [base, base])
        var r = SeededGenerator(seed: 3)
        IntensityTransform.brightness(probability: 1, range: 0.5...1.5).apply(to: &s, using: &r)
        let factors = s.image.map { $0.storage[0] / base.storage[0] }
        for (c, f) in factors.enumerated() {
            XCTAssertTrue((0.5...1.5).contains(f))
            for (a, b) in zip(s.image[c].storage, base.storage) { XCTAssertEqual(a, b * f, accuracy: 1e-4) }
        }
    }

    func testColorJitterGrayscaleAndHue() {
        let r = Grid<Float>(shape: [2, 2], repeating: 0.9), g = Grid<Float>(shape: [2, 2], repeating: 0.2), b = Grid<Float>(shape: [2, 2], repeating: 0.1)
        var s = Sample(id: "rgb", image: [r, g, b])
        var rng = SeededGenerator(seed: 1)
        ColorJitter(probability: 0, grayscaleProbability: 1).apply(to: &s, using: &rng)
        let l: Float = 0.299 * 0.9 + 0.587 * 0.2 + 0.114 * 0.1
        for c in 0..<3 { XCTAssertEqual(s.image[c].storage[0], l, accuracy: 1e-6) }
        // HSV round trip, and a hue shift of 1/3 turns pure red into pure green.
        let (h, sat, v) = ColorJitter.rgbToHSV(0.9, 0.2, 0.1)
        let back = ColorJitter.hsvToRGB(h, sat, v)
        XCTAssertEqual(back.0, 0.9, accuracy: 1e-6); XCTAssertEqual(back.1, 0.2, accuracy: 1e-6); XCTAssertEqual(back.2, 0.1, accuracy: 1e-6)
        var red = [Grid<Float>(shape: [1, 1], repeating: 1), Grid(shape: [1, 1], repeating: 0), Grid(shape: [1, 1], repeating: 0)]
        ColorJitter.shiftHue(&red, by: 1.0 / 3)
        XCTAssertEqual(red.map { $0.storage[0] }, [0, 1, 0])
    }
}
