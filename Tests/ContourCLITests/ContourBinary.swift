import Foundation
import XCTest

/// The `contour` executable that SwiftPM builds beside the test bundle, for tests that run it as
/// a user would; the test is skipped where it was not built.
func contourBinary() throws -> URL {
    let url = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("contour")
    guard FileManager.default.isExecutableFile(atPath: url.path) else { throw XCTSkip("no contour binary at \(url.path)") }
    return url
}
