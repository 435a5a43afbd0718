import Foundation
import XCTest
import Geometry
@testable import Imaging

/// Resampling against skimage.transform.resize / scipy.ndimage fixtures
/// (scripts/fixtures/make_resample_fixtures.py).
final class ResamplingTests: XCTestCase {
    func array(_ name: String) throws -> NPYArray {
        try NPYArray(decoding: Array(try Data(contentsOf: URL(fileURLWithPath: try fixture("resample-\(name).npy")))))
    }

    func floats(_ name: String) throws -> (shape: [Int], values: [Float]) {
        let a = try array(name)
        return (a.shape, a.doubles().map(Float.init))
    }

    func assertClose(_ got: [Float], _ want: [Float], _ what: String, tolerance: Float = 1e-4, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(got.count, want.count, what, file: file, line: line)
        let worst = zip(got, want).map { abs($0 - $1) }.max() ?? 0
        XCTAssertLessThanOrEqual(worst, tolerance, "\(what): max |Δ| = \(worst)", file: file, line: line)
    }

    func testOrdersMatchSkimageResize() throws {
        let x3 = try floats("x3"), x2 = try floats("x2")
        for order in [0, 1, 3] {
            let want3 = try floats("x3-up-o\(order)")
            assertClose(Resampling.resize(x3.values, shape: x3.shape, to: want3.shape, order: order), want3.values, "3D order \(order)")
            let want2 = try floats("x2-o\(order)")
            assertClose(Resampling.resize(x2.values, shape: x2.shape, to: want2.shape, order: order), want2.values, "2D order \(order)")
        }
    }

    func testSeparateZMatchesNNUNetRule() throws {
        let a = try floats("aniso"), want = try floats("aniso-sepz")
        XCTAssertEqual(Resampling.separateAxis(current: [3, 0.8, 0.8], target: [2, 0.8, 0.8]), 0)
        XCTAssertNil(Resampling.separateAxis(current: [1, 0.8, 0.8], target: [1, 1, 1]))
        XCTAssertNil(Resampling.separateAxis(current: [3, 3, 0.8], target: [3, 3, 0.8]), "two coarsest axes: no separate axis")
        assertClose(Resampling.resize(a.values, shape: a.shape, to: want.shape, order: 3, separateAxis: 0), want.values, "separate z")
    }

    func testLabels() throws {
        let seg = try array("seg")
        let labels: [UInt8] = try seg.elements()
        for (name, mode, axis) in [("seg-linear", Resampling.LabelMode.linear, nil), ("seg-nearest", .nearest, nil), ("seg-sepz", .linear, 0)] as [(String, Resampling.LabelMode, Int?)] {
            let want = try array(name)
            let got = Resampling.resizeLabels(labels, shape: seg.shape, to: want.shape, mode: mode, separateAxis: axis)
            let truth: [UInt8] = try want.elements()
            // Exact ties between classes are decided by rounding; compare where the fixture is decisive.
            let decisive: [UInt8] = mode == .nearest ? [UInt8](repeating: 1, count: truth.count) : try array("\(name)-decisive").elements()
            XCTAssertGreaterThan(decisive.filter { $0 == 1 }.count, truth.count * 3 / 4, name)
            let wrong = truth.indices.filter { decisive[$0] == 1 && got[$0] != truth[$0] }
            XCTAssertEqual(got.count, truth.count, name)
            XCTAssertEqual(wrong.count, 0, "\(name): \(wrong.count) decisive voxels differ")
        }
    }
}
