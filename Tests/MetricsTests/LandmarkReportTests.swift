import XCTest
@testable import Metrics

/// Landmark scores by hand: anisotropic radial errors, per-landmark and overall MRE/SDR, missing
/// ground truth skipped, ground truth outside the image an error.
final class LandmarkReportTests: XCTestCase {
    func testAnisotropicErrorsPerLandmarkAndOverall() throws {
        let names = ["apex", "base", "tip"]
        // Spacing (z, y, x) = (2, 0.5, 1) mm: offsets (1, 2, 2) voxels → (2, 1, 2) mm → 3 mm.
        let a = try LandmarkReport.rows(caseName: "a", predicted: ["apex": [4, 6, 7], "base": [1, 1, 1], "tip": [0, 0, 0]],
                                        truth: ["apex": [3, 4, 5], "base": [1, 1, 1]], names: names,
                                        spacing: [2, 0.5, 1], shape: [8, 8, 8])
        XCTAssertEqual(a.map(\.landmark), ["apex", "base"], "tip has no ground truth: skipped")
        XCTAssertEqual(a[0].error, 3, accuracy: 1e-12)
        XCTAssertEqual(a[1].error, 0)
        let b = try LandmarkReport.rows(caseName: "b", predicted: ["apex": [3, 4, 5], "base": [1, 1, 4], "tip": [2, 2, 2]],
                                        truth: ["apex": [3, 4, 5], "base": [1, 1, 1]], names: names, spacing: [2, 0.5, 1], shape: [8, 8, 8])
        XCTAssertEqual(b[1].error, 3, accuracy: 1e-12)
        let s = LandmarkReport.summary(a + b, names: names, radii: [2, 3])
        XCTAssertEqual(s.landmarks.map(\.name), ["apex", "base"], "a landmark never scored is left out, not NaN")
        XCTAssertEqual(s.landmarks[0].mre, 1.5, accuracy: 1e-12)
        XCTAssertEqual(s.landmarks[0].std, 1.5, accuracy: 1e-12)
        XCTAssertEqual(s.landmarks[0].sdr, [50, 100])
        XCTAssertEqual(s.overall.mre, 1.5, accuracy: 1e-12)
        XCTAssertEqual(s.overall.n, 4)
        XCTAssertEqual(s.overall.sdr, [50, 100])
        XCTAssertEqual(LandmarkReport.means(s), ["mre": 1.5, "sdr_2": 50, "sdr_3": 100])
        XCTAssertEqual(LandmarkReport.sdrName(2.5), "sdr_2.5")
        let json = LandmarkReport.json(s)
        XCTAssertTrue(json.hasPrefix("{\"radii\":[2,3],\"mre\":1.5,\"std\":1.5,\"n\":4,\"sdr\":{\"sdr_2\":50,\"sdr_3\":100},\"landmarks\":[{\"name\":\"apex\""), json)
        let csv = LandmarkReport.csv(a).split(separator: "\n")
        XCTAssertEqual(csv[0], "case,landmark,error_mm,pred_0,pred_1,pred_2,true_0,true_1,true_2")
        XCTAssertEqual(csv[1], "a,apex,3.0,4.0,6.0,7.0,3.0,4.0,5.0")
        XCTAssertEqual(LandmarkReport.summaryLines(s).last, "landmarks overall: MRE 1.5000 ± 1.5000 mm, SDR@2 mm 50.0 %, SDR@3 mm 100.0 % (n = 4)")
        XCTAssertTrue(LandmarkReport.means(LandmarkReport.summary([], names: names, radii: [2])).isEmpty)
    }

    func testGroundTruthOutsideTheImageNamesCaseAndLandmark() {
        XCTAssertThrowsError(try LandmarkReport.rows(caseName: "case_007", predicted: ["apex": [1, 1]], truth: ["apex": [3, 12.5]],
                                                     names: ["apex"], spacing: [1, 1], shape: [10, 12])) { e in
            XCTAssertTrue("\(e)".contains("case_007") && "\(e)".contains("\"apex\"") && "\(e)".contains("outside"), "\(e)")
        }
        // Half a voxel beyond the last centre is still inside.
        XCTAssertNoThrow(try LandmarkReport.rows(caseName: "c", predicted: ["apex": [1, 1]], truth: ["apex": [-0.5, 11.5]],
                                                 names: ["apex"], spacing: [1, 1], shape: [10, 12]))
        XCTAssertEqual(try MetricCatalog.direction(of: "mre"), .lowerIsBetter)
        XCTAssertEqual(try MetricCatalog.direction(of: "sdr_2.5"), .higherIsBetter)
    }
}
