import ArgumentParser
import ContourCLI
import Foundation
import Imaging
import XCTest

/// `contour evaluate` and `contour predict` on a two-head model: landmark scores (CSV/JSON, SDR
/// radii from the command line) and predicted landmarks in the dataset's landmark format.
final class LandmarkCommandTests: XCTestCase {
    var dir: String!

    override func setUpWithError() throws {
        dir = NSTemporaryDirectory() + "contour-landmark-cli-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: dir) }

    func contour(_ args: [String]) async throws {
        var command = try Contour.parseAsRoot(args)
        if var asyncCommand = command as? AsyncParsableCommand { try await asyncCommand.run() } else { try command.run() }
    }

    func testEvaluateScoresLandmarksAndPredictWritesThem() async throws {
        let data = "\(dir!)/data"
        try DemoData.write(kind: .organLandmarks, to: data, trainCount: 6, testCount: 1, seed: 3)
        try await contour([
            "train", "--dataset", data, "--model", "unet2d-mt", "--epochs", "1", "--patch-size", "64,64", "--quiet",
            "--loss", "cedice,heatmap-mse", "--set", "model.options.stages=3", "--set", "model.options.baseWidth=4",
            "--set", "run.iterationsPerEpoch=1", "--set", "data.batchSize=2", "--set", "data.preset=none",
            "--set", "run.tensorboard=false", "--output", "\(dir!)/run"])

        let out = "\(dir!)/eval"
        try await contour(["evaluate", "--checkpoint", "\(dir!)/run", "--dataset", data, "--split", "test", "--output", out,
                           "--sdr-radii", "2,4", "--landmark-extraction", "softargmax", "--no-topology"])
        let csv = try String(contentsOfFile: "\(out)/landmarks.csv", encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(csv[0], "case,landmark,error_mm,pred_0,pred_1,true_0,true_1")
        XCTAssertEqual(csv.dropFirst().map { $0.split(separator: ",")[1] }, ["bottom", "left", "right", "top"])
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(out)/landmarks.json"))) as! [String: Any]
        XCTAssertEqual(json["radii"] as? [Double], [2, 4])
        XCTAssertEqual((json["landmarks"] as? [[String: Any]])?.compactMap { $0["name"] as? String }, ["bottom", "left", "right", "top"])
        XCTAssertNotNil((json["sdr"] as? [String: Any])?["sdr_4"])
        XCTAssertTrue(FileManager.default.fileExists(atPath: "\(out)/metrics.csv"), "segmentation rows too")

        let predicted = "\(dir!)/pred"
        try await contour(["predict", "--checkpoint", "\(dir!)/run", "--input", "\(data)/imagesTs", "--output", predicted])
        let image = try ImageFile.read("\(data)/imagesTs/test_000_0000.png")
        let marks = try Landmarks.read(path: "\(predicted)/landmarksTs/test_000.json", rank: 2, header: image.header)
        XCTAssertEqual(marks.names, ["bottom", "left", "right", "top"])
        XCTAssertTrue(marks.points.values.allSatisfy { p in zip(p, image.shape).allSatisfy { $0 >= 0 && $0 <= Double($1 - 1) } })
        XCTAssertTrue(FileManager.default.fileExists(atPath: "\(predicted)/test_000.png"))
        // World space: the same points, read back through the image header.
        try await contour(["predict", "--checkpoint", "\(dir!)/run", "--input", "\(data)/imagesTs", "--output", "\(dir!)/world",
                           "--landmark-space", "world"])
        let world = try Landmarks.read(path: "\(dir!)/world/landmarksTs/test_000.json", rank: 2, header: image.header)
        for name in marks.names {
            for (a, b) in zip(world.points[name]!, marks.points[name]!) { XCTAssertEqual(a, b, accuracy: 1e-9, name) }
        }
        do {
            try await contour(["predict", "--checkpoint", "\(dir!)/run", "--input", "\(data)/imagesTs", "--output", "\(dir!)/x",
                               "--landmark-space", "mm"])
            XCTFail("--landmark-space mm accepted")
        } catch { XCTAssertTrue("\(error)".contains("--landmark-space"), "\(error)") }
    }
}
