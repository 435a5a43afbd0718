import Foundation
import XCTest
import Geometry
@testable import Imaging

/// Builds small nnU-Net-layout datasets on disk and checks loading, splits and `DataCheck`.
final class DatasetTests: XCTestCase {
    var root: String!

    override func setUpWithError() throws {
        root = NSTemporaryDirectory() + "contour-dataset-\(UUID().uuidString)"
        for sub in ["imagesTr", "labelsTr", "landmarksTr", "imagesTs"] {
            try FileManager.default.createDirectory(atPath: "\(root!)/\(sub)", withIntermediateDirectories: true)
        }
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: root) }

    func image(_ h: Int, _ w: Int, seed: UInt16) throws -> Grid<UInt16> {
        try Grid(shape: [h, w], storage: (0..<(h * w)).map { UInt16(($0 * 7 + Int(seed)) % 200) })
    }

    func labels(_ h: Int, _ w: Int, value: UInt8) throws -> Grid<UInt8> {
        try Grid(shape: [h, w], storage: (0..<(h * w)).map { $0 % 3 == 0 ? value : 0 })
    }

    /// Three clean 2D cases (two channels each) with landmarks; case_002 is landmarks-only.
    func writeCleanDataset(extraTasks: [String: TaskAvailability] = [:]) throws {
        var tasks = ["case_002": TaskAvailability(labels: [], landmarks: ["apex"])]
        for (k, v) in extraTasks { tasks[k] = v }
        try DatasetDescription(channelNames: ["T1", "T2"], labels: ["background": 0, "organ": 1, "tumour": 2],
                               numTraining: 3, fileEnding: ".png", landmarkNames: ["apex", "base"], tasks: tasks)
            .write(path: "\(root!)/dataset.json")
        for (i, id) in ["case_000", "case_001", "case_002"].enumerated() {
            for c in 0..<2 { try PNGFile.write(try image(12, 10, seed: UInt16(i * 2 + c)), path: "\(root!)/imagesTr/\(id)_000\(c).png") }
            if id != "case_002" { try ImageFile.writeLabels(try labels(12, 10, value: UInt8(1 + i % 2)), path: "\(root!)/labelsTr/\(id).png") }
            try Landmarks(points: ["apex": [2, 3], "base": [10.5, 8]]).write(path: "\(root!)/landmarksTr/\(id).json")
        }
        for c in 0..<2 { try PNGFile.write(try image(12, 10, seed: 9), path: "\(root!)/imagesTs/test_000_000\(c).png") }
    }

    func testOpensNnUNetLayoutWithTasksAndLandmarks() throws {
        try writeCleanDataset()
        let ds = try Dataset.open(root)
        XCTAssertEqual(ds.training.map(\.id), ["case_000", "case_001", "case_002"])
        XCTAssertEqual(ds.test.map(\.id), ["test_000"])
        XCTAssertEqual(ds.description.foregroundLabels, [1, 2])
        XCTAssertEqual(ds.training[0].tasks, TaskAvailability(labels: [1, 2], landmarks: ["apex", "base"]))
        XCTAssertEqual(ds.training[2].tasks, TaskAvailability(labels: [], landmarks: ["apex"]))
        XCTAssertNil(ds.training[2].labelPath)
        let image = try Dataset.loadImage(ds.training[1])
        XCTAssertEqual(image.channels.count, 2)
        XCTAssertEqual(image.shape, [12, 10])
        XCTAssertEqual(image.channels[1].storage[1], Float((7 + 3) % 200))
        XCTAssertEqual(try Dataset.loadLabels(ds.training[1])?.storage.max(), 2)
        // Points live in numpy order (y, x); the file stores them as (x, y).
        let marks = try Dataset.loadLandmarks(ds.training[0], rank: 2, header: image.header)
        XCTAssertEqual(marks?.points["apex"], [2, 3])
        XCTAssertEqual(marks?.points["base"], [10.5, 8])
        let text = try String(contentsOfFile: ds.training[0].landmarkPath!, encoding: .utf8)
        XCTAssertTrue(text.replacingOccurrences(of: " ", with: "").replacingOccurrences(of: "\n", with: "").contains("[3,2]"), text)
        XCTAssertTrue(DataCheck.run(root).isClean, "\(DataCheck.run(root).problems)")
    }

    func testDataCheckReportsEveryBrokenFile() throws {
        try writeCleanDataset()
        // 1. truncated PNG channel; 2. label shape mismatch; 3. label 7 not in labels;
        // 4. landmark outside; 5. missing channel; 6. truncated .nii.gz in the test set.
        let truncated = try Data(contentsOf: URL(fileURLWithPath: try fixture("truncated.png")))
        try truncated.write(to: URL(fileURLWithPath: "\(root!)/imagesTr/case_000_0001.png"))
        try ImageFile.writeLabels(try labels(11, 10, value: 1), path: "\(root!)/labelsTr/case_001.png")
        try FileManager.default.removeItem(atPath: "\(root!)/imagesTr/case_002_0001.png")
        try Landmarks(points: ["apex": [40, 3], "base": [1, 1]]).write(path: "\(root!)/landmarksTr/case_002.json")
        for c in 0..<2 { try PNGFile.write(try image(12, 10, seed: 1), path: "\(root!)/imagesTr/case_003_000\(c).png") }
        try ImageFile.writeLabels(try labels(12, 10, value: 7), path: "\(root!)/labelsTr/case_003.png")
        try Landmarks(points: ["apex": [1, 1], "base": [2, 2]]).write(path: "\(root!)/landmarksTr/case_003.json")
        let gz = try Data(contentsOf: URL(fileURLWithPath: try fixture("truncated.nii.gz")))
        try gz.write(to: URL(fileURLWithPath: "\(root!)/imagesTs/test_000_0001.png"))  // wrong content under a .png name

        let report = DataCheck.run(root)
        let text = report.problems.map(\.description).joined(separator: "\n")
        XCTAssertEqual(report.casesChecked, 5)
        func expect(_ file: String, _ fragment: String) {
            XCTAssertTrue(report.problems.contains { $0.file.hasSuffix(file) && $0.message.contains(fragment) },
                          "no problem '\(fragment)' for \(file) in:\n\(text)")
        }
        expect("dataset.json", "numTraining is 3 but imagesTr holds 4")
        expect("imagesTr/case_000_0001.png", "unreadable")
        expect("labelsTr/case_001.png", "label shape [11, 10] differs from image shape [12, 10]")
        expect("imagesTr/case_002_0001.png", "missing channel file")
        expect("landmarksTr/case_002.json", "landmark \"apex\" at [3.0, 40.0]")
        expect("labelsTr/case_003.png", "label values [7] are not in dataset.json labels [0, 1, 2]")
        expect("imagesTs/test_000_0001.png", "unreadable")
        XCTAssertFalse(report.isClean)
    }

    func testPartialLabelsAndNaNAreReported() throws {
        try writeCleanDataset(extraTasks: ["case_001": TaskAvailability(labels: [1], landmarks: [])])
        // case_001's labels contain value 2, but it is annotated for label 1 only.
        let nan = try Grid(shape: [4, 4], storage: [Float](repeating: .nan, count: 16))
        try TIFFFile.write(nan, path: "\(root!)/x.tif", as: .float32)
        let report = DataCheck.run(root)
        XCTAssertTrue(report.problems.contains { $0.file.hasSuffix("labelsTr/case_001.png") && $0.message.contains("annotated only for [1]") },
                      "\(report.problems)")
        let volume = try TIFFFile.readImage(path: "\(root!)/x.tif")
        XCTAssertTrue(volume.channels[0].storage.allSatisfy(\.isNaN))
    }

    func testBadDatasetJSONIsOneClearProblem() throws {
        try "{\"labels\": {\"background\": 0}}".write(toFile: "\(root!)/dataset.json", atomically: true, encoding: .utf8)
        let report = DataCheck.run(root)
        XCTAssertEqual(report.problems.count, 1)
        XCTAssertTrue(report.problems[0].message.contains("dataset.json"), report.problems[0].message)
        XCTAssertThrowsError(try DatasetDescription.read(path: "\(root!)/dataset.json"))
        try """
        {"channel_names": {"0": "CT"}, "labels": {"background": 0, "a": 1}, "numTraining": 0, "file_ending": ".png",
         "tasks": {"c": {"labels": [5]}}}
        """.write(toFile: "\(root!)/dataset.json", atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try DatasetDescription.read(path: "\(root!)/dataset.json")) {
            XCTAssertTrue("\($0)".contains("label 5"), "\($0)")
        }
    }

    func testKFoldSplitsAreDeterministicPartitions() throws {
        let ids = (0..<11).map { String(format: "c%02d", $0) }
        let a = try Splits.kFold(ids, folds: 5, seed: 7), b = try Splits.kFold(ids.reversed(), folds: 5, seed: 7)
        XCTAssertEqual(a, b)
        XCTAssertNotEqual(a, try Splits.kFold(ids, folds: 5, seed: 8))
        XCTAssertEqual(a.flatMap(\.val).sorted(), ids)
        for s in a {
            XCTAssertEqual(Set(s.train).union(s.val), Set(ids))
            XCTAssertTrue(Set(s.train).isDisjoint(with: s.val))
            XCTAssertTrue((2...3).contains(s.val.count))
        }
        try Splits.write(a, path: "\(root!)/splits.json")
        XCTAssertEqual(try Splits.read(path: "\(root!)/splits.json"), a)
        XCTAssertThrowsError(try Splits.kFold(["a"], folds: 2))
    }

    func testWorldLandmarksUseTheAffine() throws {
        // A 3D header with spacing (z 2, y 0.5, x 0.25) and offset (10, 20, 30) mm.
        let affine: [[Double]] = [[0.25, 0, 0, 10], [0, 0.5, 0, 20], [0, 0, 2, 30], [0, 0, 0, 1]]
        let header = ImageHeader(spacing: [2, 0.5, 0.25], affine: affine)
        try "{\"space\": \"world\", \"points\": {\"p\": [11, 21.5, 36]}}".write(toFile: "\(root!)/w.json", atomically: true, encoding: .utf8)
        let marks = try Landmarks.read(path: "\(root!)/w.json", rank: 3, header: header)
        let p = try XCTUnwrap(marks.points["p"])
        XCTAssertEqual(p[0], 3, accuracy: 1e-12)   // z
        XCTAssertEqual(p[1], 3, accuracy: 1e-12)   // y
        XCTAssertEqual(p[2], 4, accuracy: 1e-12)   // x
        // Written in world space: the affine applied to (x, y, z), and read back to the same voxels.
        try Landmarks(points: ["p": [3, 3, 4], "q": [0.5, 7, 1.25]]).write(path: "\(root!)/out.json", world: header)
        let text = try String(contentsOfFile: "\(root!)/out.json", encoding: .utf8)
        XCTAssertTrue(text.contains("\"world\""), text)
        let file = try JSONSerialization.jsonObject(with: Data(text.utf8)) as! [String: Any]
        XCTAssertEqual((file["points"] as! [String: [Double]])["p"], [11, 21.5, 36])
        XCTAssertEqual(try Landmarks.read(path: "\(root!)/out.json", rank: 3, header: header).points["q"]!, [0.5, 7, 1.25])
        // 2D images have no affine: millimetres are voxels × spacing.
        let flat = ImageHeader(spacing: [0.5, 0.25])
        try Landmarks(points: ["p": [4, 8]]).write(path: "\(root!)/out2.json", world: flat)
        let file2 = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(root!)/out2.json"))) as! [String: Any]
        XCTAssertEqual((file2["points"] as! [String: [Double]])["p"], [2, 2])
        XCTAssertEqual(try Landmarks.read(path: "\(root!)/out2.json", rank: 2, header: flat).points["p"]!, [4, 8])
        try "{\"points\": {\"p\": [1, 2]}}".write(toFile: "\(root!)/bad.json", atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try Landmarks.read(path: "\(root!)/bad.json", rank: 3)) { XCTAssertTrue("\($0)".contains("needs 3")) }
    }

    // MARK: messages in the user's terms (issue 18)

    /// The message `DatasetDescription.read` throws for `text`.
    func readError(_ text: String) -> String {
        let path = "\(root!)/dataset.json"
        try? text.write(toFile: path, atomically: true, encoding: .utf8)
        do {
            _ = try DatasetDescription.read(path: path)
            return "no error"
        } catch {
            return "\(error)"
        }
    }

    func testDatasetJSONSyntaxErrorsNameLineAndColumn() throws {
        let path = "\(root!)/dataset.json"
        // Python's json rejects a trailing comma; Python 3.13 reports line 2 column 37 (the comma).
        let trailing = readError("{\n  \"labels\": {\"background\": 0, \"a\": 1,},\n}")
        XCTAssertTrue(trailing.hasPrefix("\(path):2:37: invalid JSON: trailing comma before '}'"), trailing)
        let inArray = readError("{\"channel_names\": {\"0\": \"CT\"},\n \"landmarks\": [\"a\", \"b\",]}")
        XCTAssertTrue(inArray.hasPrefix("\(path):2:24: invalid JSON: trailing comma before ']'"), inArray)
        let missingComma = readError("{\"numTraining\": 4\n \"file_ending\": \".png\"}")
        XCTAssertTrue(missingComma.hasPrefix("\(path):2:2: invalid JSON: expected ',' or '}' after the value of \"numTraining\", found '\"'"), missingComma)
        let single = readError("{'labels': {}}")
        XCTAssertTrue(single.hasPrefix("\(path):1:2: invalid JSON: strings need double quotes"), single)
        let unclosed = readError("{\"labels\": {\"background\": 0}")
        XCTAssertTrue(unclosed.hasPrefix("\(path):1:29: invalid JSON: the object is not closed"), unclosed)
        // Columns count characters, not bytes.
        let unicode = readError("{\"channel_names\": {\"0\": \"Ä\"} x}")
        XCTAssertTrue(unicode.hasPrefix("\(path):1:30: invalid JSON: expected ',' or '}'"), unicode)
    }

    /// Every value's line and column (characters, as Python's json counts) across a long file with
    /// multi-byte text, nesting and blank lines: positions are counted on from the previous value.
    func testJSONValuePositionsAcrossALongFile() throws {
        var text = "\u{FEFF}[\n"
        for k in 0..<300 {
            text += k % 7 == 0 ? "\n" : ""
            text += "  {\"ä\(k)\": [\"v\(k)a\", {\"ß\": \"v\(k)b\"}],\t\"k\": \"v\(k)c\"}" + (k < 299 ? ",\n" : "\n")
        }
        text += "]"
        let root = try JSONDocument.parse(Array(text.utf8), path: "x.json")
        // Where `"token"` starts in the text, by an independent count over its lines.
        func expected(_ token: String) -> (Int, Int) {
            let lines = text.components(separatedBy: "\n")
            for (n, line) in lines.enumerated() {
                if let r = line.range(of: "\"\(token)\"") {
                    return (n + 1, line[..<r.lowerBound].unicodeScalars.count + 1)
                }
            }
            return (0, 0)
        }
        var checked = 0
        func walk(_ v: JSONValue) {
            switch v.kind {
            case .string(let s):
                let (line, column) = expected(s)
                XCTAssertEqual([v.line, v.column], [line, column], s)
                checked += 1
            case .object(let members): members.forEach { walk($0.value) }
            case .array(let elements): elements.forEach(walk)
            default: break
            }
        }
        walk(root)
        XCTAssertEqual(checked, 900)
        XCTAssertEqual([root.line, root.column], [1, 1]) // the byte-order mark is not a column (Python's utf-8-sig)
        // An error after many values still counts from the start of the file.
        let broken = text.replacingOccurrences(of: "\"v250c\"}", with: "\"v250c\",}")
        XCTAssertThrowsError(try JSONDocument.parse(Array(broken.utf8), path: "x.json")) { error in
            let (line, column) = expected("v250c")
            XCTAssertTrue("\(error)".hasPrefix("x.json:\(line):\(column + 7): invalid JSON: trailing comma"), "\(error)")
        }
    }

    func testDatasetJSONKeyAndTypeErrorsAreInUserTerms() throws {
        let path = "\(root!)/dataset.json"
        let valid = "\"channel_names\": {\"0\": \"CT\"}, \"numTraining\": 2, \"file_ending\": \".png\""
        let array = readError("{\(valid),\n \"labels\": [\"background\", \"liver\"]}")
        XCTAssertEqual(array, "\(path):2:12: labels: expected an object {name: value} such as {\"background\": 0, \"liver\": 1}, found an array (nnU-Net v1 style?)")
        let v1 = readError("{\(valid), \"labels\": {\"0\": \"background\", \"1\": \"liver\"}}")
        XCTAssertTrue(v1.contains("labels: expected {name: value} such as {\"background\": 0}, found {\"0\": \"background\"} (nnU-Net v1 style"), v1)
        let channels = readError("{\"channel_names\": [\"CT\"], \"labels\": {\"background\": 0}, \"numTraining\": 2, \"file_ending\": \".png\"}")
        XCTAssertEqual(channels, "\(path):1:19: channel_names: expected an object {\"0\": \"CT\", \"1\": …}, found an array")
        let missing = readError("{\"channel_names\": {\"0\": \"CT\"}, \"labels\": {\"background\": 0}, \"numTraining\": 2}")
        XCTAssertEqual(missing, "\(path): missing key \"file_ending\" (an nnU-Net v2 dataset.json needs channel_names, labels, numTraining and file_ending)")
        let modality = readError("{\"modality\": {\"0\": \"CT\"}, \"labels\": {\"background\": 0}, \"numTraining\": 2, \"file_ending\": \".png\"}")
        XCTAssertTrue(modality.contains("missing key \"channel_names\" (nnU-Net v1 called it \"modality\")"), modality)
        let count = readError("{\"channel_names\": {\"0\": \"CT\"}, \"labels\": {\"background\": 0}, \"numTraining\": \"2\", \"file_ending\": \".png\"}")
        XCTAssertTrue(count.hasPrefix("\(path):1:76: numTraining: expected a whole number ≥ 0"), count)
        XCTAssertTrue(count.hasSuffix("found a string \"2\""), count)
        let ending = readError("{\"channel_names\": {\"0\": \"CT\"}, \"labels\": {\"background\": 0}, \"numTraining\": 2, \"file_ending\": \"png\"}")
        XCTAssertTrue(ending.contains("file_ending: expected a file extension string starting with \".\""), ending)
        let value = readError("{\"channel_names\": {\"0\": \"CT\"}, \"labels\": {\"background\": 0, \"a\": 1.5}, \"numTraining\": 2, \"file_ending\": \".png\"}")
        XCTAssertTrue(value.contains("labels[\"a\"]: expected an integer label value, found a number 1.5"), value)
        let top = readError("[1]")
        XCTAssertTrue(top.hasPrefix("\(path):1:1: expected an object {\"channel_names\""), top)
        for message in [array, v1, channels, missing, count, ending, value, top] {
            XCTAssertFalse(message.contains("Swift.") || message.contains("CodingKeys") || message.contains("DecodingError"), message)
        }
        // Python's json extensions stay accepted, and a valid file still reads.
        XCTAssertEqual(readError("{\(valid), \"labels\": {\"background\": 0, \"a\": 1}, \"name\": \"Ä\\u00e9\\n\", \"x\": [NaN, -Infinity, 1e3]}"), "no error")
        XCTAssertEqual(try DatasetDescription.read(path: path).labels, ["background": 0, "a": 1])
    }

    func testRelationsAreReadAndChecked() throws {
        let path = "\(root!)/dataset.json"
        let base = "\"channel_names\": {\"0\": \"MR\"}, \"labels\": {\"background\": 0, \"brain\": 1, \"cerebellum\": 5}, "
            + "\"numTraining\": 1, \"file_ending\": \".png\", \"landmarks\": [\"nasion\", \"vertex\"]"
        try "{\(base), \"relations\": {\"nasion\": [1, 5], \"vertex\": 5}}".write(toFile: path, atomically: true, encoding: .utf8)
        let d = try DatasetDescription.read(path: path)
        XCTAssertEqual(d.landmarkRelations, ["nasion": [1, 5], "vertex": [5]])
        // Written back and read again unchanged.
        try d.write(path: path)
        XCTAssertEqual(try DatasetDescription.read(path: path).landmarkRelations, d.landmarkRelations)
        let unknown = readError("{\(base), \"relations\": {\"inion\": [1]}}")
        XCTAssertEqual(unknown, "\(path): relations names landmark \"inion\", which is not in landmarks [nasion, vertex]")
        let badClass = readError("{\(base), \"relations\": {\"nasion\": [1, 4]}}")
        XCTAssertEqual(badClass, "\(path): relations[\"nasion\"] lists class 4, which is not a foreground label in labels (1, 5)")
        let type = readError("{\(base), \"relations\": {\"nasion\": \"brain\"}}")
        XCTAssertTrue(type.contains("relations[\"nasion\"]: expected a list of label values [1, 2], found"), type)
    }

    func testSplitsAndLandmarkErrorsNameTheKey() throws {
        try "[{\"train\": [\"a\"], \"val\": [\"b\"]},\n {\"train\": [\"b\"]}]".write(toFile: "\(root!)/splits.json", atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try Splits.read(path: "\(root!)/splits.json")) {
            XCTAssertEqual("\($0)", "\(self.root!)/splits.json:2:2: fold 1: missing key \"val\" (each fold is {\"train\": [...], \"val\": [...]})")
        }
        try "{\"points\": {\"p\": \"1,2\"}}".write(toFile: "\(root!)/p.json", atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try Landmarks.read(path: "\(root!)/p.json", rank: 2)) {
            XCTAssertEqual("\($0)", "\(self.root!)/p.json:1:18: points[\"p\"]: expected coordinates [x, y(, z)], found a string \"1,2\"")
        }
    }

    /// Files that loading skips are reported by `data check`, one problem each.
    func testDataCheckReportsFilesThatLoadingSkips() throws {
        try writeCleanDataset()
        try PNGFile.write(try image(12, 10, seed: 1), path: "\(root!)/imagesTr/case_009.png")          // no _0000
        try PNGFile.write(try image(12, 10, seed: 1), path: "\(root!)/imagesTr/case_000_0002.png")    // 3rd channel of 2
        try ImageFile.writeLabels(try labels(12, 10, value: 1), path: "\(root!)/labelsTr/orphan.png")   // no image
        try "notes".write(toFile: "\(root!)/imagesTr/README.txt", atomically: true, encoding: .utf8)
        let report = DataCheck.run(root)
        let text = report.problems.map(\.description)
        XCTAssertEqual(Set(text), [
            "\(root!)/imagesTr/case_009.png: no channel suffix: images are named CASE_0000.png (one file per channel, as in nnU-Net), e.g. case_009_0000.png; this file is ignored",
            "\(root!)/imagesTr/case_000_0002.png: channel 2, but dataset.json declares 2 channel(s) in channel_names; this file is ignored",
            "\(root!)/labelsTr/orphan.png: label without an image: no imagesTr/orphan_0000.png; this label is ignored",
            "\(root!)/imagesTr: 1 file(s) do not end in file_ending \".png\" and are ignored: README.txt",
        ], text.joined(separator: "\n"))
    }

    func testDataCheckReportsAFileEndingThatMatchesNothing() throws {
        try writeCleanDataset()
        var d = try DatasetDescription.read(path: "\(root!)/dataset.json")
        d.fileEnding = ".nii.gz"
        try d.write(path: "\(root!)/dataset.json")
        let report = DataCheck.run(root)
        let text = report.problems.map(\.description).joined(separator: "\n")
        XCTAssertTrue(report.problems.contains {
            $0.file == "\(root!)/dataset.json"
                && $0.message == "file_ending \".nii.gz\" matches no file in imagesTr, which holds .png files; set file_ending to the images' extension"
        }, text)
        XCTAssertTrue(text.contains("numTraining is 3 but imagesTr holds 0 cases"), text)
        // A dataset.json error is one problem, its path said once.
        try "{\"labels\": [],}".write(toFile: "\(root!)/dataset.json", atomically: true, encoding: .utf8)
        let bad = DataCheck.run(root)
        XCTAssertEqual(bad.problems.map(\.description), ["\(root!)/dataset.json:1:14: invalid JSON: trailing comma before '}' (JSON, like Python's json, allows none)"])
    }
}
