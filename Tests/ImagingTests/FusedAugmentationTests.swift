import Foundation
import XCTest
import Geometry
@testable import Imaging

/// The fused fast paths of augmentation against the separate passes they replace (issue 13 item 4):
/// mirroring folded into the patch copy and into the resampling's coordinate map, the per-axis
/// interpolation of low-resolution simulation, and the vectorised reductions and power.
final class FusedAugmentationTests: XCTestCase {
    typealias Case = PreprocessedAugmentationTests

    /// Every combination of mirrored axes of a rank.
    static func flipSets(_ rank: Int) -> [[Bool]] {
        (0..<(1 << rank)).map { bits in (0..<rank).map { bits & (1 << $0) != 0 } }
    }

    /// Reference: the box copied element by element (zero outside), then mirrored.
    static func naiveBox<T: Numeric>(_ data: [T], shape: [Int], origin: [Int], size: [Int], flips: [Bool]) -> [T] {
        let rank = size.count, n = size.reduce(1, *)
        var out = [T](repeating: 0, count: n)
        for o in 0..<n {
            var rest = o, src = 0, step = 1, inside = true
            var index = [Int](repeating: 0, count: rank)
            for a in stride(from: rank - 1, through: 0, by: -1) { index[a] = rest % size[a]; rest /= size[a] }
            for a in stride(from: rank - 1, through: 0, by: -1) {
                let v = origin[a] + (flips[a] ? size[a] - 1 - index[a] : index[a])
                if v < 0 || v >= shape[a] { inside = false }
                src += v * step
                step *= shape[a]
            }
            if inside { out[o] = data[src] }
        }
        return out
    }

    func testBoxCopyEqualsElementwiseCopyWithMirrors() {
        var rng = SeededGenerator(seed: 3)
        for shape in [[7, 9], [5, 6, 7], [1, 4]] {
            let n = shape.reduce(1, *)
            let data = (0..<n).map { Float($0) + 0.5 }
            let bytes = (0..<n).map { UInt8($0 % 251) }
            for _ in 0..<12 {
                let size = shape.map { Int.random(in: 1...($0 + 4), using: &rng) }
                let origin = zip(shape, size).map { Int.random(in: (-$1 - 1)...($0 + 1), using: &rng) }
                for flips in Self.flipSets(shape.count) {
                    let got = data.withUnsafeBufferPointer { BoxCopy.copy(from: $0.baseAddress!, shape: shape, origin: origin, size: size, flips: flips, fill: 0) }
                    XCTAssertEqual(got, Self.naiveBox(data, shape: shape, origin: origin, size: size, flips: flips), "\(shape) \(origin) \(size) \(flips)")
                    let gotBytes = bytes.withUnsafeBufferPointer { BoxCopy.copy(from: $0.baseAddress!, shape: shape, origin: origin, size: size, flips: flips, fill: 0) }
                    XCTAssertEqual(gotBytes, Self.naiveBox(bytes, shape: shape, origin: origin, size: size, flips: flips))
                }
            }
        }
    }

    /// Crop with mirrors in one pass = crop, then `SpatialTransform.permute` (image, labels, landmarks).
    func testMirroredCropEqualsCropThenFlip() throws {
        for shape in [[20, 17], [9, 11, 8]] {
            let s = try Case.randomCase("c", shape: shape, seed: 5)
            var rng = SeededGenerator(seed: 9)
            for _ in 0..<4 {
                let size = shape.map { Int.random(in: 4...($0 + 3), using: &rng) }
                let origin = zip(shape, size).map { Int.random(in: -2...($0 - $1 + 2), using: &rng) }
                for flips in Self.flipSets(shape.count) {
                    let fused = try SampleSource(s).read(origin: origin, size: size, flips: flips)
                    let separate = SpatialTransform.permute(try CropPad.crop(s, origin: origin, size: size),
                                                            permutation: Array(0..<shape.count), flipped: flips)
                    assertBitEqual(fused, separate, "crop \(shape) \(origin) \(size) \(flips)")
                }
            }
        }
    }

    /// Resampling with mirrors (mirrored coordinates) = resampling, then mirroring: bit-equal,
    /// for a whole sample, a box reader, and with an elastic field.
    func testMirroredResampleEqualsResampleThenFlip() throws {
        for shape in [[24, 21], [10, 12, 9]] {
            let rank = shape.count
            let s = try Case.randomCase("r", shape: shape, seed: 11)
            let reader = SampleSource(shape: shape) { origin, size in try CropPad.crop(s, origin: origin, size: size) }
            var rng = SeededGenerator(seed: 13)
            for trial in 0..<3 {
                let size = shape.map { $0 - 3 }
                let m = SpatialTransform.rotationMatrix(rank: rank, degrees: (0..<(rank == 2 ? 1 : 3)).map { _ in Double.random(in: -60...60, using: &rng) })
                    .map { $0.map { $0 * 1.15 } }
                let cIn = shape.map { Double($0 - 1) / 2 + 0.3 }
                let field = trial == 2 ? ElasticDeformation(probability: 1, magnitude: 2...3, sigma: 3...4).field(shape: size, using: &rng) : nil
                for interpolation in [Interpolation.linear, .cubic] {
                    for flips in Self.flipSets(rank) {
                        for source in [SampleSource(s), reader] {
                            let fused = try SpatialTransform.resample(source, matrix: m, inputCenter: cIn, outputShape: size,
                                                                      displacement: field, interpolation: interpolation, flips: flips)
                            let plain = try SpatialTransform.resample(source, matrix: m, inputCenter: cIn, outputShape: size,
                                                                      displacement: field, interpolation: interpolation)
                            let separate = SpatialTransform.permute(plain, permutation: Array(0..<rank), flipped: flips)
                            assertBitEqual(fused, separate, "resample \(shape) \(interpolation) \(flips) elastic \(field != nil)")
                        }
                    }
                }
            }
        }
    }

    /// Memory-mapped patches mirrored in the copy = the patch, then mirrored.
    func testMappedPatchMirrorsInTheCopy() throws {
        let folder = NSTemporaryDirectory() + "contour-fused-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let s = try Case.randomCase("m", shape: [13, 10, 11], seed: 17)
        try Case.writeFolder([s], to: folder)
        let data = try PreprocessedDataset.open(folder)
        for origin in [[0, 0, 0], [-2, 3, 4], [5, -1, -3]] {
            for flips in Self.flipSets(3) {
                let size = [9, 8, 10]
                let fused = try data.source(0).read(origin: origin, size: size, flips: flips)
                let separate = SpatialTransform.permute(try data.patch(0, origin: origin, size: size), permutation: [0, 1, 2], flipped: flips)
                assertBitEqual(fused, separate, "mapped \(origin) \(flips)")
            }
        }
    }

    /// The per-axis interpolators equal the per-voxel ones at the outer product of the axes' coordinates.
    func testPerAxisInterpolationEqualsPerVoxel() throws {
        var rng = SeededGenerator(seed: 19)
        for shape in [[13, 17], [7, 9, 6]] {
            let n = shape.reduce(1, *)
            let g = try Grid(shape: shape, storage: (0..<n).map { _ in Float.random(in: -2...2, using: &rng) })
            for (out, clamp) in [(shape.map { $0 * 2 + 1 }, true), (shape.map { Swift.max(1, $0 / 2) }, false), (shape.map { $0 + 3 }, false)] {
                var axes = IntensityTransform.axisCoordinates(outShape: out, inShape: shape, clamp: clamp)
                axes[0][0] = -1.5  // also taps outside the grid
                axes[shape.count - 1][out.last! - 1] = Float(shape.last!) + 0.25
                let m = out.reduce(1, *)
                var coords = [Float](repeating: 0, count: shape.count * m)
                for i in 0..<m {
                    var rest = i
                    for a in stride(from: shape.count - 1, through: 0, by: -1) { coords[a * m + i] = axes[a][rest % out[a]]; rest /= out[a] }
                }
                XCTAssertEqual(Interpolator.linear(g, axes: axes), Interpolator.linear(g, at: coords, count: m), "linear \(shape) → \(out)")
                XCTAssertEqual(Interpolator.nearest(g, axes: axes), Interpolator.nearest(g, at: coords, count: m), "nearest \(shape) → \(out)")
            }
        }
    }

    func testVectorisedReductionsAndPower() {
        var rng = SeededGenerator(seed: 23)
        for n in [0, 1, 7, 8, 9, 1000, 65_539] {
            let v = (0..<n).map { _ in Float.random(in: -3...5, using: &rng) }
            let (mean, std) = Normalization.meanStd(v)
            let refMean = v.reduce(0.0) { $0 + Double($1) } / Double(Swift.max(1, n))
            let refStd = (v.reduce(0.0) { $0 + (Double($1) - refMean) * (Double($1) - refMean) } / Double(Swift.max(1, n))).squareRoot()
            XCTAssertEqual(mean, refMean, accuracy: 1e-12)
            XCTAssertEqual(std, refStd, accuracy: 1e-12)
            let (lo, hi) = IntensityTransform.extrema(v)
            XCTAssertEqual(lo, v.min() ?? 0)
            XCTAssertEqual(hi, v.max() ?? 0)
        }
        // x^γ against libm's powf: relative error < 2e-6 on [1e-4, 1]; below, the float rounding
        // of γ·log2 u (|·| up to ~200) allows up to 1e-5.
        for gamma in stride(from: Float(0.5), through: 2, by: 0.05) {
            XCTAssertEqual(VoxelMath.power01(0, gamma), 0)
            XCTAssertEqual(VoxelMath.power01(1, gamma), 1, accuracy: 1e-6)
            for _ in 0..<2000 {
                let u = Float.random(in: 0...1, using: &rng) * powf(2, -Float(Int.random(in: 0...100, using: &rng)))
                guard u >= Float.leastNormalMagnitude else { continue }
                let want = powf(u, gamma)
                XCTAssertEqual(VoxelMath.power01(u, gamma), want, accuracy: Swift.max(want * (u >= 1e-4 ? 2e-6 : 1e-5), 1e-37), "\(u)^\(gamma)")
            }
        }
    }

    func assertBitEqual(_ a: Sample, _ b: Sample, _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.shape, b.shape, what, file: file, line: line)
        XCTAssertEqual(a.image.count, b.image.count, what, file: file, line: line)
        for c in a.image.indices where c < b.image.count {
            XCTAssertEqual(a.image[c].storage.map(\.bitPattern), b.image[c].storage.map(\.bitPattern), "\(what): channel \(c)", file: file, line: line)
        }
        XCTAssertEqual(a.labels?.storage, b.labels?.storage, "\(what): labels", file: file, line: line)
        XCTAssertEqual(a.landmarks?.keys.sorted(), b.landmarks?.keys.sorted(), what, file: file, line: line)
        for (name, p) in a.landmarks ?? [:] {
            XCTAssertEqual(p, b.landmarks?[name] ?? [], "\(what): landmark \(name)", file: file, line: line)
        }
    }
    /// Collation into slots as samples finish (`BatchCollator`, the loader's workers) equals
    /// `Batch(samples:)` field for field, whatever the order the slots are placed and copied in:
    /// samples without labels (zeros, also when a map first appears after unlabelled slots were
    /// placed), unaugmented and pseudo labels in some samples only, landmarks in and out of the patch.
    func testSlotCollationEqualsBatchOfSamples() throws {
        var rng = SeededGenerator(seed: 5)
        let shape = [5, 7], n = 35
        func map() -> Grid<UInt8> { try! Grid(shape: shape, storage: (0..<n).map { _ in UInt8.random(in: 0...3, using: &rng) }) }
        let samples: [Sample] = (0..<6).map { i in
            let image = (0..<2).map { _ in try! Grid(shape: shape, storage: (0..<n).map { _ in Float.random(in: -1...1, using: &rng) }) }
            var s = Sample(id: "c\(i)", image: image, labels: i % 3 == 0 ? nil : map(), landmarks: ["tip": [Double(i) - 1, 2]],
                           tasks: TaskAvailability(labels: i % 3 == 0 ? [] : [1], landmarks: ["tip"]))
            if i % 2 == 1 { s.unaugmentedLabels = map() }
            if i == 4 {
                s.pseudoLabels = map()
                s.pseudoClasses = [2, 3]
            }
            return s
        }
        let reference = try Batch(samples: samples, epoch: 1, index: 2, landmarkNames: ["tip"])
        for (order, copyReversed) in [(Array(0..<6), false), ([3, 0, 5, 1, 4, 2], false), ([0, 3, 1, 2, 5, 4], true), ([4, 1, 0, 2, 3, 5], true)] {
            let c = BatchCollator(count: 6)
            var slots: [(Int, BatchCollator.Slot)] = []
            for k in order {
                let slot = try XCTUnwrap(c.register(samples[k], slot: k))
                // Copied at once, or every copy after all registrations (maps appearing in between).
                if copyReversed { slots.append((k, slot)) } else { BatchCollator.copy(samples[k], into: slot) }
            }
            for (k, slot) in slots.reversed() { BatchCollator.copy(samples[k], into: slot) }
            XCTAssertFalse(c.misfit)
            let b = c.batch(epoch: 1, index: 2, landmarkNames: ["tip"])
            XCTAssertEqual(b.imageShape, reference.imageShape)
            XCTAssertEqual(b.images, reference.images, "\(order)")
            XCTAssertEqual(b.labels, reference.labels, "\(order)")
            XCTAssertEqual(b.unaugmentedLabels, reference.unaugmentedLabels, "\(order)")
            XCTAssertEqual(b.pseudoLabels, reference.pseudoLabels, "\(order)")
            XCTAssertEqual(b.ids, reference.ids)
            XCTAssertEqual(b.hasLabels, reference.hasLabels)
            XCTAssertEqual(b.tasks, reference.tasks)
            XCTAssertEqual(b.pseudoClasses, reference.pseudoClasses)
            XCTAssertEqual(b.landmarks, reference.landmarks)
            XCTAssertEqual(b.landmarkCoordinates, reference.landmarkCoordinates)
            XCTAssertEqual(b.landmarkMask, reference.landmarkMask)
            XCTAssertEqual(b.epoch, 1)
            XCTAssertEqual(b.index, 2)
        }
        XCTAssertEqual(reference.labels?.prefix(n), ArraySlice(repeating: 0, count: n))  // slot 0 has no labels
        // Another shape or channel count does not fit (the loader then collates the batch anew, which names the case).
        let c = BatchCollator(count: 2)
        XCTAssertNotNil(c.register(samples[0], slot: 0))
        XCTAssertNil(c.register(Sample(id: "other", image: [Grid(shape: [7, 5], repeating: 0)]), slot: 1))
        XCTAssertTrue(c.misfit)
    }
    /// The vectorised noise (`GaussianNoise`, Box–Muller by polynomials): its cosine/sine and
    /// radius against libm within the documented bound, and 2^18 + 1 draws (an odd count: the
    /// last block's halves differ) with N(0, σ²)'s moments and distribution (Kolmogorov–Smirnov),
    /// the two halves of a block uncorrelated.
    func testVectorisedGaussianNoise() {
        var worst = 0.0
        for i in 0..<100_000 {
            let x = Float(i) / 100_000, (c, s) = GaussianNoise.cosSin2Pi(x)
            worst = max(worst, abs(Double(c) - cos(2 * .pi * Double(x))), abs(Double(s) - sin(2 * .pi * Double(x))))
        }
        XCTAssertLessThan(worst, 1e-6)
        var radial = 0.0
        for i in Array(stride(from: 1, through: 1 << 24, by: 997)) + [(1 << 24) - 1, 1 << 24] {
            let u = Float(i) / Float(1 << 24), exact = (-2 * log(Double(u))).squareRoot()
            radial = max(radial, abs(Double(GaussianNoise.radius(u)) - exact) / (1 + exact))
        }
        XCTAssertLessThan(radial, 1e-6)
        var rng = SeededGenerator(seed: 11)
        let sigma: Float = 0.3, n = (1 << 18) + 1
        var x = [Float](repeating: 2, count: n)
        x.withUnsafeMutableBufferPointer { GaussianNoise.add(to: $0, sigma: sigma, using: &rng) }
        let z = x.map { Double(($0 - 2) / sigma) }
        let mean = z.reduce(0, +) / Double(n)
        let variance = z.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(n)
        let kurtosis = z.reduce(0) { $0 + pow($1 - mean, 4) } / Double(n) / (variance * variance)
        XCTAssertEqual(mean, 0, accuracy: 5 / Double(n).squareRoot())
        XCTAssertEqual(variance, 1, accuracy: 5 * (2 / Double(n)).squareRoot())
        XCTAssertEqual(kurtosis, 3, accuracy: 5 * (24 / Double(n)).squareRoot())
        let sorted = z.sorted()
        var d = 0.0
        for (k, v) in sorted.enumerated() {
            let cdf = 0.5 * erfc(-v / 2.0.squareRoot())
            d = max(d, abs(cdf - Double(k) / Double(n)), abs(cdf - Double(k + 1) / Double(n)))
        }
        XCTAssertLessThan(d, 1.95 / Double(n).squareRoot())  // KS at p ≈ 0.001
        XCTAssertNotEqual(x[n - 1], 2)
        // Cosine half against sine half of every full block.
        let b = GaussianNoise.block
        var products = 0.0, pairs = 0
        for start in stride(from: 0, to: n - 2 * b + 1, by: 2 * b) {
            for k in 0..<b { products += z[start + k] * z[start + b + k]; pairs += 1 }
        }
        XCTAssertEqual(products / Double(pairs), 0, accuracy: 5 / Double(pairs).squareRoot())
    }
}
