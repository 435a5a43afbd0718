import Foundation
import XCTest
import Geometry
@testable import Imaging

/// `condseg-strong` with `parity`: ConDSeg's strong augmentation runs on a batch tensor, so its
/// jitter, grayscale and blur are drawn once per batch, and the blur is torchvision's (1, 7)
/// kernel (vertical only, reflect padding).
final class PerBatchAugmentationTests: XCTestCase {
    /// An RGB image symmetric under both flips: mirroring leaves it as it is, so the samples of a
    /// batch differ only by their colour and blur draws.
    func symmetricSample() throws -> Sample {
        let h = 16, w = 12
        let channels = try (0..<3).map { c in
            try Grid(shape: [h, w], storage: (0..<(h * w)).map { k -> Float in
                let y = k / w, x = k % w
                return 0.15 + 0.1 * Float(c) + 0.5 * Float(Swift.min(y, h - 1 - y)) / 8 * Float(Swift.min(x, w - 1 - x)) / 6
            })
        }
        return Sample(id: "s", image: channels, labels: nil)
    }

    func slices(_ b: Batch) -> [[Float]] {
        let n = b.images.count / b.batchSize
        return (0..<b.batchSize).map { Array(b.images[($0 * n)..<(($0 + 1) * n)]) }
    }

    func testParityDrawsOncePerBatchAndVariesAcrossBatches() throws {
        let sample = try symmetricSample()
        for parity in [true, false] {
            let augmentation = AugmentationPreset.condsegStrong.augmentation(rank: 2, parity: parity)
            XCTAssertEqual(augmentation.perBatch, parity)
            let loader = try DataLoader(count: 12, configuration: DataLoaderConfiguration(
                batchSize: 4, augmentation: augmentation, workers: 2, seed: 5)) { _ in sample }
            let batches = try (0..<3).map { try loader.batch(epoch: 1, index: $0) }
            // The worker threads make the same batches.
            let it = loader.batches(epoch: 1)
            for b in batches { XCTAssertEqual(try XCTUnwrap(try it.next()).images, b.images) }
            let s = batches.map(slices)
            for k in s.indices {
                XCTAssertNotEqual(s[k][0], sample.image.flatMap(\.storage), "augmented")
                if parity {
                    for j in 1..<4 { XCTAssertEqual(s[k][j], s[k][0], "batch \(k): sample \(j) drew what sample 0 drew") }
                } else {
                    XCTAssertFalse((1..<4).allSatisfy { s[k][$0] == s[k][0] }, "per-sample draws differ within a batch")
                }
            }
            if parity {
                XCTAssertNotEqual(s[0][0], s[1][0])
                XCTAssertNotEqual(s[1][0], s[2][0])
            }
            // Seeded: a second loader gives the same batches.
            let again = try DataLoader(count: 12, configuration: loader.configuration) { _ in sample }
            XCTAssertEqual(try again.batch(epoch: 1, index: 2).images, batches[2].images)
        }
    }

    /// The (1, 7) blur on a unit impulse: the column through it is torchvision's kernel
    /// exp(−t²/2σ²)/Σ at t = −3…3, reflected at the top edge; other columns stay zero.
    func testVerticalSevenTapBlurIsTorchvisionsKernel() throws {
        let sigma = 1.3
        let k = (-3...3).map { exp(-0.5 * pow(Double($0) / sigma, 2)) }
        let kernel = k.map { $0 / k.reduce(0, +) }
        let (h, w) = (16, 5)
        var storage = [Float](repeating: 0, count: h * w)
        storage[8 * w + 2] = 1
        storage[1 * w + 4] = 1
        var s = Sample(id: "d", image: [try Grid(shape: [h, w], storage: storage)], labels: nil)
        var rng = SeededGenerator(seed: 1)
        IntensityTransform.kernelBlur(probability: 1, sigma: sigma...sigma, size: [7, 1]).apply(to: &s, using: &rng)
        let out = s.image[0].storage
        for y in 0..<h {
            XCTAssertEqual(Double(out[y * w + 2]), (5...11).contains(y) ? kernel[y - 5] : 0, accuracy: 1e-6, "impulse column, row \(y)")
            XCTAssertEqual(out[y * w + 0], 0)
            XCTAssertEqual(out[y * w + 1], 0)
            XCTAssertEqual(out[y * w + 3], 0)
        }
        // Impulse at row 1: row 0 sees rows −3…3 → reflect(−1) = 1 (tap t = 2) and row 1 (tap t = 4).
        XCTAssertEqual(Double(out[0 * w + 4]), kernel[2] + kernel[4], accuracy: 1e-6)
        // Row 2 sees rows −1…5: row 1 at tap 2 and reflect(−1) = 1 at tap 0.
        XCTAssertEqual(Double(out[2 * w + 4]), kernel[2] + kernel[0], accuracy: 1e-6)
        XCTAssertEqual(Double(out[4 * w + 4]), kernel[0], accuracy: 1e-6)
        XCTAssertEqual(out[5 * w + 4], 0)
    }
}
