import XCTest
import Geometry
@testable import Metrics

/// Values that MONAI's own test-suite asserts (shared/spec/REFERENCE_VALUES.md).
final class MonaiReferenceTests: XCTestCase {
    func testCase7DiceAndIoU() throws {
        let pred = try Grid(shape: [2, 2], storage: [true, false, false, true])
        let truth = try Grid(shape: [2, 2], storage: [true, false, true, true])
        let c = try ConfusionCounts(prediction: pred, truth: truth)
        XCTAssertEqual(c.dice(), 0.8, accuracy: 1e-5)
        XCTAssertEqual(c.iou(), 2.0 / 3.0, accuracy: 1e-5)
    }

    static func sphere(radius r: Int) -> Grid<Bool> {
        var g = Grid(shape: [99, 99, 99], repeating: false)
        let (cz, cy, cx) = (20, 33, 22)
        for z in 0..<99 { for y in 0..<99 { for x in 0..<99 {
            let d = (z - cz) * (z - cz) + (y - cy) * (y - cy) + (x - cx) * (x - cx)
            if d <= r * r { g[z, y, x] = true }
        } } }
        return g
    }

    func testCase8SpheresHD95AndHD() throws {
        let sd = try SurfaceDistances(prediction: Self.sphere(radius: 20), truth: Self.sphere(radius: 40))
        XCTAssertEqual(sd.hausdorff(percentile: 95), 20.09975124224178, accuracy: 1e-4)
        XCTAssertEqual(sd.directedHausdorff(percentile: 95), 19.924858845171276, accuracy: 1e-4)
        XCTAssertEqual(sd.hausdorff, 20.223748416156685, accuracy: 1e-4)
        XCTAssertEqual(sd.directedHausdorff(), 20.09975124224178, accuracy: 1e-4)
    }

    func testCase8bEmptyPredictionIsInfinite() throws {
        let truth = Self.sphere(radius: 20)
        let sd = try SurfaceDistances(prediction: Grid(shape: truth.shape, repeating: false), truth: truth)
        XCTAssertEqual(sd.hausdorff(percentile: 95), .infinity)
        XCTAssertEqual(sd.hausdorff, .infinity)
        XCTAssertEqual(sd.averageSymmetric(), .infinity)
    }

    func testBothEmptyIsNaN() throws {
        let e = Grid(shape: [4, 5], repeating: false)
        let sd = try SurfaceDistances(prediction: e, truth: e)
        XCTAssertTrue(sd.hausdorff.isNaN)
        XCTAssertTrue(sd.hausdorff(percentile: 95).isNaN)
        XCTAssertTrue(sd.surfaceDice(tolerance: 1).isNaN)
        XCTAssertTrue(try ConfusionCounts(prediction: e, truth: e).dice().isNaN)
        XCTAssertEqual(try ConfusionCounts(prediction: e, truth: e).dice(bothEmpty: 1), 1)
    }

    func testCase9SurfaceDice() throws {
        var pred = Grid(shape: [480, 640], repeating: false), label = pred
        for y in 0..<480 {
            for x in 50..<640 { pred[y, x] = true }
            for x in 60..<640 { label[y, x] = true }
        }
        let fg = try SurfaceDistances(prediction: pred, truth: label)
        let bg = try SurfaceDistances(prediction: pred.map { !$0 }, truth: label.map { !$0 })
        let missedFg: Double = 478 + 480 + 18, totalFg: Double = 480 * 4 + 588 * 2 + 578 * 2
        XCTAssertEqual(fg.surfaceDice(tolerance: 0), 1 - missedFg / totalFg, accuracy: 1e-5)
        let totalBg: Double = 1920 + 96 + 116
        XCTAssertEqual(bg.surfaceDice(tolerance: 0), 1 - 976 / totalBg, accuracy: 1e-5)
        XCTAssertEqual(fg.surfaceDice(tolerance: 10), 1, accuracy: 1e-6)
        XCTAssertEqual(fg.surfaceDice(tolerance: 11), 1, accuracy: 1e-6)
        let ones = Grid(shape: [480, 640], repeating: true), zeros = Grid(shape: [480, 640], repeating: false)
        XCTAssertEqual(try SurfaceDistances(prediction: ones, truth: ones).surfaceDice(tolerance: 0), 1)
        XCTAssertTrue(try SurfaceDistances(prediction: zeros, truth: zeros).surfaceDice(tolerance: 0).isNaN)
    }
}
