import ArgumentParser
import ContourCLI
import Foundation
import Geometry
import Imaging
import XCTest

/// `contour pseudo-label` end to end on tiny synthetic NIfTI datasets: the convex-hull fallback
/// (a box of landmarks → exactly its voxels), the TorchScript disk segmenter of
/// scripts/fixtures/make_pseudolabel_fixtures.py (a disk of radius max(image) around the mean of
/// the prompts on every slice between them → analytic masks), a segmenter returning the wrong
/// shape, and dataset.json relations naming what does not exist.
final class PseudoLabelCommandTests: XCTestCase {
    var dir: String!
    /// numpy order (z, y, x); spacing 3 × 1 × 1 mm, so `--axis auto` slices along z.
    let shape = [8, 16, 16]

    override func setUpWithError() throws {
        dir = NSTemporaryDirectory() + "contour-pseudo-cli-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: dir) }

    func contour(_ args: [String]) throws {
        var command = try Contour.parseAsRoot(args)
        try command.run()
    }

    /// The segmenter fixtures live with the Torch tests' resources.
    func segmenter(_ name: String) -> String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("TorchTests/Fixtures/jit_\(name)_segmenter.pt").path
    }

    /// Case "c0" with landmarks (x, y, z) and relations; intensity `value` everywhere.
    func makeDataset(landmarks: [String: [Double]], relations: String, value: Float = 2.5, labels: String? = nil) throws -> String {
        let root = "\(dir!)/data"
        for sub in ["imagesTr", "landmarksTr"] {
            try FileManager.default.createDirectory(atPath: "\(root)/\(sub)", withIntermediateDirectories: true)
        }
        let names = landmarks.keys.sorted().map { "\"\($0)\"" }.joined(separator: ", ")
        try """
        {"channel_names": {"0": "MR"}, "labels": \(labels ?? "{\"background\": 0, \"organ\": 1, \"core\": 2}"),
         "numTraining": 1, "file_ending": ".nii.gz", "landmarks": [\(names)], "relations": \(relations)}
        """.write(toFile: "\(root)/dataset.json", atomically: true, encoding: .utf8)
        let grid = try Grid(shape: shape, spacing: [3, 1, 1], storage: [Float](repeating: value, count: shape.reduce(1, *)))
        try NIfTIFile.write(grid, path: "\(root)/imagesTr/c0_0000.nii.gz", as: .float32)
        let points = landmarks.map { "\"\($0.key)\": [\($0.value.map { "\($0)" }.joined(separator: ", "))]" }.joined(separator: ", ")
        try "{\"space\": \"voxel\", \"points\": {\(points)}}".write(toFile: "\(root)/landmarksTr/c0.json", atomically: true, encoding: .utf8)
        return root
    }

    func read(_ path: String) throws -> Grid<UInt8> {
        let (labels, header) = try ImageFile.readLabels(path)
        XCTAssertEqual(labels.shape, shape)
        XCTAssertEqual(header.spacing, [3, 1, 1], "the image's geometry")
        return labels
    }

    func testConvexHullFallbackWritesTheBoxAndSkipsDegenerateStructures() throws {
        // Class 1: the 8 corners of x 2…6, y 3…9, z 1…5 (x, y, z order in the file); class 2: two landmarks only.
        var marks: [String: [Double]] = [:]
        for (i, (x, y, z)) in [(2.0, 3.0, 1.0), (6, 3, 1), (2, 9, 1), (6, 9, 1), (2, 3, 5), (6, 3, 5), (2, 9, 5), (6, 9, 5)].enumerated() {
            marks["c\(i)"] = [x, y, z]
        }
        marks["p"] = [10, 10, 2]
        marks["q"] = [12, 12, 2]
        let relations = "{" + (0..<8).map { "\"c\($0)\": [1]" }.joined(separator: ", ") + ", \"p\": [2], \"q\": [2]}"
        let data = try makeDataset(landmarks: marks, relations: relations)
        let out = "\(dir!)/pseudo"
        try contour(["pseudo-label", "--dataset", data, "--output", out])
        let labels = try read("\(out)/c0.nii.gz")
        var expected = Grid<UInt8>(shape: shape, repeating: 0)
        for z in 1...5 { for y in 3...9 { for x in 2...6 { expected[z, y, x] = 1 } } }
        XCTAssertEqual(labels.storage, expected.storage)
        // Existing output is refused without --overwrite.
        XCTAssertThrowsError(try contour(["pseudo-label", "--dataset", data, "--output", out])) { e in
            XCTAssertTrue("\(e)".contains("--overwrite"), "\(e)")
        }
        try contour(["pseudo-label", "--dataset", data, "--output", out, "--overwrite", "--classes", "1"])
    }

    /// The disk segmenter: logit = max(image) − distance to the prompts' mean, on slices z 2…4.
    func testSegmenterMasksAreTheAnalyticDisks() throws {
        let data = try makeDataset(landmarks: ["a": [5, 6, 2], "b": [7, 8, 4], "far": [1, 1, 7]],
                                   relations: "{\"a\": [1], \"b\": [1], \"far\": [2]}")
        let out = "\(dir!)/pseudo"
        try contour(["pseudo-label", "--dataset", data, "--output", out, "--segmenter", segmenter("disk"), "--classes", "1"])
        var expected = Grid<UInt8>(shape: shape, repeating: 0)
        for z in 2...4 {
            for y in 0..<16 {
                for x in 0..<16 where ((Double(x) - 6) * (Double(x) - 6) + (Double(y) - 7) * (Double(y) - 7)).squareRoot() < 2.5 {
                    expected[z, y, x] = 1
                }
            }
        }
        XCTAssertEqual(try read("\(out)/c0.nii.gz").storage, expected.storage)

        // With a box (the prompts' box x 5…7, y 6…8, margin 0) the disk is clipped to it.
        try contour(["pseudo-label", "--dataset", data, "--output", out, "--segmenter", segmenter("disk"), "--classes", "1",
                     "--box-margin", "0", "--overwrite"])
        var boxed = expected
        for z in 0..<8 { for y in 0..<16 { for x in 0..<16 where !(5...7 ~= x && 6...8 ~= y) { boxed[z, y, x] = 0 } } }
        XCTAssertEqual(try read("\(out)/c0.nii.gz").storage, boxed.storage)

        // Slicing along x (axis 2): slices x 5…7, prompts (x, y) = (z, y) → centre z 3, y 7.
        try contour(["pseudo-label", "--dataset", data, "--output", out, "--segmenter", segmenter("disk"), "--classes", "1",
                     "--axis", "2", "--overwrite"])
        var alongX = Grid<UInt8>(shape: shape, repeating: 0)
        for x in 5...7 {
            for z in 0..<8 {
                for y in 0..<16 where ((Double(z) - 3) * (Double(z) - 3) + (Double(y) - 7) * (Double(y) - 7)).squareRoot() < 2.5 {
                    alongX[z, y, x] = 1
                }
            }
        }
        XCTAssertEqual(try read("\(out)/c0.nii.gz").storage, alongX.storage)
    }

    /// A 2D PNG dataset: the hull of a rectangle's corners, and one segmenter call on the image.
    func testTwoDimensionalImagesGivePNGLabelMaps() throws {
        let root = "\(dir!)/data2d"
        for sub in ["imagesTr", "landmarksTr"] {
            try FileManager.default.createDirectory(atPath: "\(root)/\(sub)", withIntermediateDirectories: true)
        }
        try """
        {"channel_names": {"0": "gray"}, "labels": {"background": 0, "organ": 1, "core": 2}, "numTraining": 1,
         "file_ending": ".png", "landmarks": ["a", "b", "c", "d"], "relations": {"a": [1, 2], "b": [1, 2], "c": [1], "d": [1]}}
        """.write(toFile: "\(root)/dataset.json", atomically: true, encoding: .utf8)
        try PNGFile.write(Grid<UInt16>(shape: [12, 14], repeating: 3), path: "\(root)/imagesTr/c0_0000.png", sixteenBit: false)
        // (x, y): a rectangle x 2…9, y 1…6; classes 1 (all four) and 2 (a and b only: a segment, skipped by the hull).
        try #"{"points": {"a": [2, 1], "b": [9, 6], "c": [9, 1], "d": [2, 6]}}"#
            .write(toFile: "\(root)/landmarksTr/c0.json", atomically: true, encoding: .utf8)
        let out = "\(dir!)/pseudo2d"
        try contour(["pseudo-label", "--dataset", root, "--output", out])
        var box = Grid<UInt8>(shape: [12, 14], repeating: 0)
        for y in 1...6 { for x in 2...9 { box[y, x] = 1 } }
        XCTAssertEqual(try ImageFile.readLabels("\(out)/c0.png").labels.storage, box.storage)

        // The disk segmenter: radius 3 around the prompts' mean; class 2 (a, b: mean (5.5, 3.5)) is
        // the smaller structure and is written over class 1 (all four: the same mean).
        try contour(["pseudo-label", "--dataset", root, "--output", out, "--segmenter", segmenter("disk"), "--overwrite"])
        var disk = Grid<UInt8>(shape: [12, 14], repeating: 0)
        for y in 0..<12 {
            for x in 0..<14 where ((Double(x) - 5.5) * (Double(x) - 5.5) + (Double(y) - 3.5) * (Double(y) - 3.5)).squareRoot() < 3 {
                disk[y, x] = 2
            }
        }
        XCTAssertEqual(try ImageFile.readLabels("\(out)/c0.png").labels.storage, disk.storage)
    }

    func testWrongOutputShapeNamesCaseAndExpectedShape() throws {
        let data = try makeDataset(landmarks: ["a": [5, 6, 2]], relations: "{\"a\": [1]}")
        XCTAssertThrowsError(try contour(["pseudo-label", "--dataset", data, "--output", "\(dir!)/pseudo",
                                          "--segmenter", segmenter("badshape")])) { e in
            let m = "\(e)"
            XCTAssertTrue(m.contains("case c0, structure 1 (organ)") && m.contains("[17, 16]") && m.contains("(16, 16)"), m)
        }
        XCTAssertThrowsError(try contour(["pseudo-label", "--dataset", data, "--output", "\(dir!)/pseudo",
                                          "--segmenter", "\(dir!)/missing.pt"])) { e in
            XCTAssertTrue("\(e)".contains("missing.pt"), "\(e)")
        }
    }

    func testRelationsNamingWhatDoesNotExistAreErrors() throws {
        let absent = try makeDataset(landmarks: ["a": [5, 6, 2]], relations: "{\"zzz\": [1]}")
        XCTAssertThrowsError(try contour(["pseudo-label", "--dataset", absent, "--output", "\(dir!)/o1"])) { e in
            XCTAssertTrue("\(e)".contains("relations names landmark \"zzz\""), "\(e)")
        }
        try FileManager.default.removeItem(atPath: absent)
        let badClass = try makeDataset(landmarks: ["a": [5, 6, 2]], relations: "{\"a\": [9]}")
        XCTAssertThrowsError(try contour(["pseudo-label", "--dataset", badClass, "--output", "\(dir!)/o2"])) { e in
            XCTAssertTrue("\(e)".contains("class 9"), "\(e)")
        }
        try FileManager.default.removeItem(atPath: badClass)
        let none = try makeDataset(landmarks: ["a": [5, 6, 2]], relations: "{}")
        XCTAssertThrowsError(try contour(["pseudo-label", "--dataset", none, "--output", "\(dir!)/o3"])) { e in
            XCTAssertTrue("\(e)".contains("no \"relations\""), "\(e)")
        }
        XCTAssertThrowsError(try contour(["pseudo-label", "--dataset", none, "--output", "\(dir!)/o3", "--classes", "x"]))
        XCTAssertThrowsError(try contour(["pseudo-label", "--dataset", none, "--output", "\(dir!)/o3", "--box-margin", "2"]))
    }
}
