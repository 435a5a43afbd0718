import ArgumentParser
@testable import ContourCLI
import Foundation
import Torch
import XCTest

/// `contour balance` on small gradient matrices written as .npy.
final class BalanceCommandTests: XCTestCase {
    var dir: String!

    override func setUpWithError() throws {
        dir = NSTemporaryDirectory() + "contour-balance-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: dir) }

    func write(_ values: [Double], _ shape: [Int], _ name: String = "G.npy") throws -> String {
        let path = "\(dir!)/\(name)"
        try Tensor(values, shape: shape).saveNPY(path)
        return path
    }

    func balance(_ args: [String]) throws -> String {
        let command = try Contour.parseAsRoot(["balance"] + args)
        return try XCTUnwrap(command as? BalanceCommand).output()
    }

    /// METHODS §3.6's PGP example through the command line: weights, projected rows and d.
    func testPGPPrintsWeightsAndProjectedAndWritesTheDirection() throws {
        let G = try write([1, 0, -0.5, 1, -0.005, 1], [3, 2])
        let out = try balance(["pgp", "--gradients", G, "--direction", "\(dir!)/d.npy", "--json"])
        let o = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any])
        XCTAssertEqual(o["weights"] as? [Double], [1, 1, 1])
        XCTAssertEqual(o["projected"] as? [Int], [1])
        let d = try Tensor.loadNPY("\(dir!)/d.npy").doubles()
        XCTAssertEqual(d.count, 2)
        XCTAssertEqual(d[0], 0.995, accuracy: 1e-12)
        XCTAssertEqual(d[1], 2, accuracy: 1e-12)
    }

    /// The §3.6 AGB table's first Gram, from gradients with that Gram: (1, 0) and (0.2, √3.96).
    func testAGBWithOptions() throws {
        let G = try write([1, 0, 0.2, 3.96.squareRoot()], [2, 2])
        let out = try balance(["agb", "--gradients", G, "--options", "{\"normalize\": false}", "--json"])
        let o = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any])
        let w = try XCTUnwrap(o["weights"] as? [Double])
        XCTAssertEqual(w[0], 0.951834, accuracy: 1e-5)
        XCTAssertEqual(w[1], 0.365773, accuracy: 1e-5)
    }

    func testBadInputsAreNamed() throws {
        let nan = try write([1, 0, .nan, 1], [2, 2], "nan.npy")
        let one = try write([1, 0], [1, 2], "one.npy")
        let flat = try write([1, 0, 0, 1], [4], "flat.npy")
        for (args, expected) in [(["agb", "--gradients", nan], "row 1"), (["agb", "--gradients", one], "[1, 2]"),
                                 (["agb", "--gradients", flat], "2-D"), (["nope", "--gradients", flat], "unknown balancer 'nope'"),
                                 (["agb", "--gradients", one, "--options", "[1]"], "JSON object")] {
            XCTAssertThrowsError(try balance(args), "\(args)") { error in
                XCTAssertTrue("\(error)".contains(expected), "\(args): \(error)")
            }
        }
    }
}
