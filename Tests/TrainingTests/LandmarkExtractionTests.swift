import Foundation
import NeuralNet
import Torch
import XCTest
@testable import Training

/// Against scripts/fixtures/make_landmark_fixtures.py (NumPy float64).
final class LandmarkExtractionTests: XCTestCase {
    static let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/landmarks").path

    func fixture(_ name: String) throws -> Tensor { try Tensor.loadNPY("\(Self.dir)/\(name).npy") }

    func testArgmaxSoftArgmaxAndParabolaMatchNumPy() throws {
        for dims in ["2d", "3d"] {
            let h = try fixture("heatmaps\(dims)")
            for method in LandmarkExtraction.Method.allCases {
                let expected = try fixture("\(method.rawValue)\(dims)").doubles()
                let got = try LandmarkExtraction(method: method, window: 2).points(h).flatMap { $0 }
                XCTAssertEqual(got.count, expected.count, "\(method) \(dims)")
                for (g, e) in zip(got, expected) { XCTAssertEqual(g, e, accuracy: 1e-4, "\(method) \(dims)") }
                // A leading batch axis of 1 is accepted.
                XCTAssertEqual(try LandmarkExtraction(method: method).points(try h.unsqueeze(dim: 0)).count, h.shape[0])
            }
        }
    }

    func testOptionsAndBadShapes() throws {
        let e = try LandmarkExtraction(options: Options(["extraction": .string("quadratic")], for: "evaluation.landmarks"))
        XCTAssertEqual(e, LandmarkExtraction(method: .quadratic, window: 2))
        XCTAssertThrowsError(try LandmarkExtraction(options: Options(["extraction": .string("mean")], for: "evaluation.landmarks"))) {
            XCTAssertTrue("\($0)".contains("argmax"), "\($0)")
        }
        XCTAssertThrowsError(try LandmarkExtraction().points(try Tensor.zeros([4, 5]))) {
            XCTAssertTrue("\($0)".contains("(K, spatial…)"), "\($0)")
        }
    }
}
