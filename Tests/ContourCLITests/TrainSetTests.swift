import ArgumentParser
import ContourCLI
import Foundation
import Imaging
@testable import Training
import XCTest

/// `contour train --config run.yaml --set …` as a user types it: list elements by index, and
/// mistakes named by the `--set` or the file line that made them.
final class TrainSetTests: XCTestCase {
    var dir: String!

    override func setUpWithError() throws {
        dir = NSTemporaryDirectory() + "contour-set-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: dir) }

    func contour(_ args: [String]) throws {
        var command = try Contour.parseAsRoot(args)
        try command.run()
    }

    func testSetReachesAListElementAndMistakesNameTheirSource() throws {
        try DemoData.write(kind: .tubular, to: "\(dir!)/data", trainCount: 4, testCount: 0, seed: 3)
        let path = "\(dir!)/run.yaml"
        try """
        data: {dataset: \(dir!)/data, patchSize: [32, 32], batchSize: 2, workers: 1, preset: none}
        model: {name: unet2d, options: {stages: 3, baseWidth: 4}}
        objectives: [cedice, {name: ce, weight: 0.5}]
        run: {epochs: 1, iterationsPerEpoch: 1, seed: 5, threads: 1, output: \(dir!)/run}
        optimizer:
          learningRate: abc
        """.write(toFile: path, atomically: true, encoding: .utf8)

        XCTAssertThrowsError(try contour(["train", "--config", path, "--quiet"])) {
            XCTAssertEqual("\($0)", "\(path):6: optimizer.learningRate must be a number > 0, got the string \"abc\"")
        }
        XCTAssertThrowsError(try contour(["train", "--config", path, "--set", "optimizer.learningRate=1e-2",
                                          "--set", "objectives[2].weight=2", "--quiet"])) {
            XCTAssertEqual("\($0)", "--set objectives[2].weight=2: objectives has 2 elements (indices 0 to 1), so there is no element 2")
        }
        XCTAssertThrowsError(try contour(["train", "--config", path, "--set", "optimizer.learningRate=1e-2",
                                          "--set", "data.batchSize=two", "--quiet"])) {
            XCTAssertEqual("\($0)", "--set data.batchSize=two: data.batchSize must be an integer ≥ 1, got the string \"two\"")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: "\(dir!)/run"), "a mistaken configuration starts no run")

        try contour(["train", "--config", path, "--set", "optimizer.learningRate=1e-2",
                     "--set", "objectives[0].weight=2", "--set", "objectives.1.weight=0.25", "--quiet"])
        let saved = try ExperimentConfig.load(path: "\(dir!)/run/config.yaml")
        XCTAssertEqual(saved.objectives.map(\.name), ["cedice", "ce"])
        XCTAssertEqual(saved.objectives.map(\.weight), [2, 0.25])
        XCTAssertEqual(saved.optimizer.learningRate, 0.01)
        XCTAssertTrue(try String(contentsOfFile: "\(dir!)/run/config.yaml", encoding: .utf8).contains("learningRate: 0.01\n"))
    }
}
