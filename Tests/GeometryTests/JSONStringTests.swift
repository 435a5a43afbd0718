import Foundation
import XCTest
import Geometry

final class JSONStringTests: XCTestCase {
    /// Escapes what JSON requires and nothing else; Foundation's parser reads every string back.
    func testQuotedStringsReadBackThroughJSONSerialization() throws {
        XCTAssertEqual(JSONString.quoted("a\"b\\c\nd\re\tf\u{01}g\u{1F}"), #""a\"b\\c\nd\re\tf\u0001g\u001f""#)
        XCTAssertEqual(JSONString.quoted("µm/voxel ✓ 🫀"), "\"µm/voxel ✓ 🫀\"")
        let samples = ["", "case_001", "line\nbreak", "tab\tand \"quotes\"", "back\\slash/", "\u{00}\u{07}\u{1B}[0m", "é\u{301} 🫀 \u{7F}"]
        for s in samples {
            let decoded = try JSONSerialization.jsonObject(with: Data(("[" + JSONString.quoted(s) + "]").utf8)) as? [String]
            XCTAssertEqual(decoded, [s], s.debugDescription)
        }
    }
}
