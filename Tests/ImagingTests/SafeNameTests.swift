import Foundation
import Geometry
import XCTest
@testable import Imaging

/// Names from users' files that become file names: a path separator, `..` or NUL is an error
/// naming the file it came from, before anything is written (issue 15, item 8).
final class SafeNameTests: XCTestCase {
    var root: String!

    override func setUpWithError() throws {
        root = NSTemporaryDirectory() + "contour-safename-\(UUID().uuidString)"
        try DemoData.write(kind: .tubular, to: "\(root!)/data", trainCount: 3, testCount: 0, seed: 1)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: root) }

    func testTheRules() {
        for bad in ["", "a/b", "../x", "..", "a\\b", "a\u{0}b", "x..y"] { XCTAssertNotNil(SafeName.problem(bad), bad) }
        for good in ["case_001", "BraTS-GLI-00000-000", "left kidney", "a.b", ".hidden", "T1ω"] { XCTAssertNil(SafeName.problem(good), good) }
        XCTAssertThrowsError(try SafeName.check("a\u{0}b", "case identifier", in: "splits.json")) {
            XCTAssertEqual("\($0)", "splits.json: case identifier \"a\\u{0}b\" contains a NUL character; names that become file names may not hold '/', '\\\\', '..' or NUL")
        }
    }

    /// dataset.json with `edit` applied to its JSON object.
    func editDescription(_ edit: (inout [String: Any]) -> Void) throws -> String {
        let path = "\(root!)/data/dataset.json"
        var json = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any])
        edit(&json)
        try JSONSerialization.data(withJSONObject: json).write(to: URL(fileURLWithPath: path))
        return path
    }

    func assertRefused(_ expected: [String], file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try Dataset.open("\(root!)/data"), file: file, line: line) { error in
            for part in expected { XCTAssertTrue("\(error)".contains(part), "\(error) lacks \(part)", file: file, line: line) }
        }
    }

    func testDatasetJSONNamesAreChecked() throws {
        let original = try Data(contentsOf: URL(fileURLWithPath: "\(root!)/data/dataset.json"))
        func restore() throws { try original.write(to: URL(fileURLWithPath: "\(root!)/data/dataset.json")) }
        let path = try editDescription { $0["tasks"] = ["../../escape": ["labels": [1]]] }
        assertRefused(["\(path): tasks: case identifier \"../../escape\" contains a path separator"])
        try restore()
        _ = try editDescription { j in
            var labels = j["labels"] as! [String: Any]
            labels["vessel/wall"] = 7
            j["labels"] = labels
        }
        assertRefused(["labels: label name \"vessel/wall\""])
        try restore()
        _ = try editDescription { $0["landmarks"] = ["apex", "..\u{0}"] }
        assertRefused(["landmarks: landmark name"])
        try restore()
        _ = try editDescription { $0["file_ending"] = "./../../x.png" }
        assertRefused(["file_ending", "path separator"])
        try restore()
        XCTAssertNoThrow(try Dataset.open("\(root!)/data"))
    }

    func testCaseIdentifiersFromFileNamesAndSplitsAreChecked() throws {
        let images = "\(root!)/data/imagesTr"
        let first = try XCTUnwrap(try FileSystem.list(images).first)
        try FileManager.default.copyItem(atPath: "\(images)/\(first)", toPath: "\(images)/x..y_0000.png")
        assertRefused(["\(images)/x..y_0000.png: case identifier \"x..y\" contains '..'"])
        try FileManager.default.removeItem(atPath: "\(images)/x..y_0000.png")

        let splits = "\(root!)/splits.json"
        try Data(#"[{"train": ["case_000"], "val": ["../case_001"]}]"#.utf8).write(to: URL(fileURLWithPath: splits))
        XCTAssertThrowsError(try Splits.read(path: splits)) {
            XCTAssertTrue("\($0)".contains("\(splits): fold 0 val: case identifier \"../case_001\""), "\($0)")
        }
        let marks = "\(root!)/marks.json"
        try Data(#"{"points": {"a/b": [1, 2]}}"#.utf8).write(to: URL(fileURLWithPath: marks))
        XCTAssertThrowsError(try Landmarks.read(path: marks, rank: 2)) {
            XCTAssertTrue("\($0)".contains("\(marks): points: landmark name \"a/b\""), "\($0)")
        }
    }
}
