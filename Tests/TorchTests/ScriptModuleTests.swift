import Foundation
import XCTest
@testable import Torch

/// TorchScript files written by torch 2.13 (scripts/fixtures/make_pseudolabel_fixtures.py) loaded
/// by this libtorch and run; outputs against PyTorch's own.
final class ScriptModuleTests: XCTestCase {
    func path(_ name: String) throws -> String {
        guard let url = Bundle.module.url(forResource: name, withExtension: "pt", subdirectory: "Fixtures") else {
            throw TorchError("missing fixture \(name).pt")
        }
        return url.path
    }

    func testDiskSegmenterMatchesPyTorch() throws {
        let m = try ScriptModule(path: path("jit_disk_segmenter"))
        XCTAssertEqual(try m.forwardArgumentCount(), 4)
        let image = try fixture("jit_disk_image"), points = try fixture("jit_disk_points"), labels = try fixture("jit_disk_labels")
        let out = try m.forward([image, points, labels])
        XCTAssertEqual(out.shape, [9, 11])
        let expected = try fixture("jit_disk_output")
        try assertClose(out, expected)
        // An explicit None, and a box.
        try assertClose(try m.forward([image, points, labels, nil]), expected)
        let boxed = try m.forward([image, points, labels, try fixture("jit_disk_box")])
        try assertClose(boxed, try fixture("jit_disk_output_box"))
    }

    func testErrorsNameTheFileAndCause() throws {
        XCTAssertThrowsError(try ScriptModule(path: "/nonexistent/model.pt")) { e in
            XCTAssertTrue("\(e)".contains("/nonexistent/model.pt"), "\(e)")
        }
        let notModule = NSTemporaryDirectory() + "contour-not-a-module.pt"
        try Data("hello".utf8).write(to: URL(fileURLWithPath: notModule))
        XCTAssertThrowsError(try ScriptModule(path: notModule)) { e in
            XCTAssertTrue("\(e)".contains("cannot load as a TorchScript module"), "\(e)")
        }
        let m = try ScriptModule(path: path("jit_disk_segmenter"))
        // Too many arguments: libtorch's schema check, as an error.
        let x = try Tensor.zeros([1, 1, 4, 4])
        XCTAssertThrowsError(try m.forward([x, x, x, x, x])) { e in XCTAssertTrue("\(e)".contains("forward failed"), "\(e)") }
    }
}
