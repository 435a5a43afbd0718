import ArgumentParser
@testable import ContourCLI
import Foundation
import Torch
import XCTest

/// `contour loss bab --segmentation --heatmaps` on a case worked by hand.
final class LossBaBCommandTests: XCTestCase {
    var dir: String!

    override func setUpWithError() throws {
        dir = NSTemporaryDirectory() + "contour-loss-bab-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: dir) }

    func run(_ args: [String]) throws {
        var command = try Contour.parseAsRoot(["loss", "bab"] + args)
        try command.run()
    }

    /// Class 1 is one voxel at (3, 3) of 8×8: its shell is rows/cols 2…4, thinned to 3…4. With
    /// n = 2, D = 0.5 at (5, 5), where the heatmap's only non-zero voxel (255) lies, and S = 0 there
    /// (outside the component): loss 1 − 0.5 = 0.5, dL/dS = +0.5 and dL/dH = −0.5/255 at (5, 5).
    func testHandWorkedCaseAndItsGradients() throws {
        var s = [Double](repeating: 0, count: 2 * 64), h = [Double](repeating: 0, count: 64)
        s[64 + 3 * 8 + 3] = 1
        h[5 * 8 + 5] = 255
        try Tensor(s, shape: [1, 2, 8, 8]).saveNPY("\(dir!)/s.npy")
        try Tensor(h, shape: [1, 1, 8, 8]).saveNPY("\(dir!)/h.npy")
        try run(["--segmentation", "\(dir!)/s.npy", "--heatmaps", "\(dir!)/h.npy", "--relations", "{\"0\": [1]}",
                 "--options", "{\"maxDistance\": 2}", "--gradient-segmentation", "\(dir!)/gs.npy",
                 "--gradient-heatmaps", "\(dir!)/gh.npy", "--json"])
        let gs = try Tensor.loadNPY("\(dir!)/gs.npy").doubles(), gh = try Tensor.loadNPY("\(dir!)/gh.npy").doubles()
        XCTAssertEqual(gs[64 + 5 * 8 + 5], 0.5, accuracy: 1e-12)
        XCTAssertEqual(gs[5 * 8 + 5], 0, accuracy: 1e-12)           // class 0 is not related
        XCTAssertEqual(gh[5 * 8 + 5], -0.5 / 255, accuracy: 1e-12)
        XCTAssertEqual(gh[4 * 8 + 4], -1.0 / 255, accuracy: 1e-12)  // on the thin boundary, D = 1
        XCTAssertEqual(gh[2 * 8 + 2], -0.5 / 255, accuracy: 1e-12)  // one ring out
        XCTAssertEqual(gh[0], 0, accuracy: 1e-12)                   // beyond n
    }

    func testBadRelationsAreNamed() throws {
        try Tensor.zeros([1, 2, 8, 8]).saveNPY("\(dir!)/s.npy")
        try Tensor.zeros([1, 1, 8, 8]).saveNPY("\(dir!)/h.npy")
        for (relations, expected) in [("{\"0\": [3]}", "class 3, which does not exist"), ("{\"2\": [1]}", "landmark index 2 does not exist"),
                                      ("{\"nasion\": [1]}", "landmark 'nasion' does not exist"), ("[1]", "must be an object {landmark: [classes]}")] {
            XCTAssertThrowsError(try run(["--segmentation", "\(dir!)/s.npy", "--heatmaps", "\(dir!)/h.npy", "--relations", relations])) {
                XCTAssertTrue("\($0)".contains(expected), "\(relations): \($0)")
            }
        }
        XCTAssertThrowsError(try run(["--segmentation", "\(dir!)/s.npy", "--relations", "{}"])) {
            XCTAssertTrue("\($0)".contains("go together"), "\($0)")
        }
    }
}
