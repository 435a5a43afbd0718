import Foundation
import XCTest
import Geometry
@testable import Imaging

func fixture(_ name: String) throws -> String {
    guard let url = Bundle.module.url(forResource: name, withExtension: nil, subdirectory: "Fixtures") else {
        throw ImagingError("missing fixture \(name)")
    }
    return url.path
}

func expected(_ name: String) throws -> NPYArray {
    try NPYArray(decoding: Array(try Data(contentsOf: URL(fileURLWithPath: try fixture(name + ".expected.npy")))))
}

final class ImageFileTests: XCTestCase {
    var dir: String!
    override func setUpWithError() throws {
        dir = NSTemporaryDirectory() + "contour-imaging-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: dir) }

    /// Reads `name` with Contour and compares every channel with what the other writer stored.
    func check(_ name: String, channels: Int, tolerance: Float = 0, file: StaticString = #filePath, line: UInt = #line) throws {
        let volume = try ImageFile.read(try fixture(name))
        let want = try expected(name)
        XCTAssertEqual(volume.channels.count, channels, name, file: file, line: line)
        let got = volume.channels.flatMap(\.storage)
        let shape = channels == 1 ? volume.shape : [channels] + volume.shape
        XCTAssertEqual(shape, want.shape, name, file: file, line: line)
        let w = want.doubles()
        var worst: Float = 0
        for (a, b) in zip(got, w) { worst = Swift.max(worst, Swift.abs(a - Float(b))) }
        XCTAssertLessThanOrEqual(worst, tolerance, name, file: file, line: line)
    }

    func testPNGVariants() throws {
        try check("gray8.png", channels: 1)
        try check("gray16.png", channels: 1)
        try check("rgb.png", channels: 3)
        try check("rgba.png", channels: 3)
        try check("palette.png", channels: 3)
        let (labels, _) = try ImageFile.readLabels(try fixture("labels.png"))
        XCTAssertEqual(labels.storage.map(Double.init), try expected("labels.png").doubles())
    }

    func testJPEGMatchesPillowDecode() throws {
        // Both decoders are libjpeg(-turbo); allow one grey level for IDCT rounding differences.
        try check("gray.jpg", channels: 1, tolerance: 1)
        try check("rgb.jpg", channels: 3, tolerance: 1)
    }

    func testTIFFVariants() throws {
        try check("u16.tif", channels: 1)
        try check("f32.tif", channels: 1)
        try check("stack.tif", channels: 1)
        XCTAssertEqual(try ImageFile.read(try fixture("stack.tif")).shape, [3, 5, 6])
        try check("tiled.tif", channels: 1)
        try check("rgb.tif", channels: 3)
    }

    func testNIfTIValuesSpacingAndAffine() throws {
        try check("ct.nii.gz", channels: 1)
        let ct = try ImageFile.read(try fixture("ct.nii.gz"))
        XCTAssertEqual(ct.shape, [4, 5, 6])
        XCTAssertEqual(ct.spacing[0], 2.5, accuracy: 1e-6)
        XCTAssertEqual(ct.spacing[1], 0.7, accuracy: 1e-6)
        XCTAssertEqual(ct.spacing[2], 0.8, accuracy: 1e-6)
        XCTAssertTrue(ct.isInteger)
        let affine = try NPYArray(decoding: Array(try Data(contentsOf: URL(fileURLWithPath: try fixture("ct.affine.npy"))))).doubles()
        let got = ct.header.affine!.flatMap { $0 }
        for (a, b) in zip(got, affine) { XCTAssertEqual(a, b, accuracy: 1e-5) }
        XCTAssertEqual(ct.header.nifti?.sformCode, 2)
        try check("seg.nii", channels: 1)
        try check("scaled.nii", channels: 1, tolerance: 1e-5)
        XCTAssertFalse(try ImageFile.read(try fixture("scaled.nii")).isInteger)
        try check("v2.nii", channels: 1)
    }

    func testBrokenFilesAreClearErrorsNamingTheFile() throws {
        for name in ["truncated.png", "truncated.nii.gz"] {
            let path = try fixture(name)
            XCTAssertThrowsError(try ImageFile.read(path)) { XCTAssertTrue("\($0)".contains(path), "\($0)") }
        }
        XCTAssertThrowsError(try ImageFile.read("\(dir!)/missing.png")) { XCTAssertTrue("\($0)".contains("no such file")) }
        XCTAssertThrowsError(try ImageFile.read("\(dir!)/x.bmp")) { XCTAssertTrue("\($0)".contains("unknown image format")) }
        XCTAssertThrowsError(try ImageFile.readLabels(try fixture("f32.tif"))) { XCTAssertTrue("\($0)".contains("f32.tif")) }
    }

    func testLosslessRoundTripsAreBitExact() throws {
        let labels = try Grid(shape: [5, 7], spacing: [1, 1], storage: (0..<35).map { UInt8($0 % 6) })
        for ext in ["png", "tif", "nii", "nii.gz", "npy"] {
            let path = "\(dir!)/l.\(ext)"
            try ImageFile.writeLabels(labels, path: path)
            XCTAssertEqual(try ImageFile.readLabels(path).labels.storage, labels.storage, ext)
        }
        let volume = try Grid(shape: [3, 4, 5], spacing: [2, 0.5, 0.25], storage: (0..<60).map { UInt8($0) })
        try ImageFile.writeLabels(volume, path: "\(dir!)/v.nii.gz")
        let back = try ImageFile.readLabels("\(dir!)/v.nii.gz")
        XCTAssertEqual(back.labels.storage, volume.storage)
        XCTAssertEqual(back.labels.shape, [3, 4, 5])
        XCTAssertEqual(back.header.spacing, [2, 0.5, 0.25])
        let floats = try Grid(shape: [2, 3, 4], storage: (0..<24).map { Float($0) * 0.37 - 2 })
        try TIFFFile.write(floats, path: "\(dir!)/f.tif", as: .float32)
        XCTAssertEqual(try ImageFile.read("\(dir!)/f.tif").channels[0].storage, floats.storage)
        let g16 = try Grid(shape: [3, 3], storage: [0, 1, 300, 65535, 7, 8, 9, 10, 11] as [UInt16])
        try PNGFile.write(g16, path: "\(dir!)/g.png")
        XCTAssertEqual(try PNGFile.read(path: "\(dir!)/g.png").storage, g16.storage)
        XCTAssertThrowsError(try ImageFile.writeLabels(labels, path: "\(dir!)/l.jpg"))
    }

    func testNIfTIPredictionKeepsTheSourceHeader() throws {
        let source = try ImageFile.read(try fixture("ct.nii.gz"))
        let pred = try Grid(shape: source.shape, spacing: source.spacing, storage: [UInt8](repeating: 1, count: 120))
        let path = "\(dir!)/pred.nii.gz"
        try ImageFile.writeLabels(pred, path: path, header: source.header)
        let back = try ImageFile.read(path)
        XCTAssertEqual(back.header.affine!.flatMap { $0 }, source.header.affine!.flatMap { $0 })
        XCTAssertEqual(back.header.nifti?.sformCode, 2)
        XCTAssertEqual(back.header.nifti?.qformCode, 1)
        XCTAssertThrowsError(try ImageFile.writeLabels(try Grid(shape: [2, 2, 2], storage: [UInt8](repeating: 0, count: 8)),
                                                        path: "\(dir!)/bad.nii", header: source.header))
    }

    func testJPEGWriteReadCloseToSource() throws {
        let g = try Grid(shape: [16, 16], storage: (0..<256).map { UInt8(($0 % 16) * 8) })
        try JPEGFile.write([g], path: "\(dir!)/a.jpg", quality: 100)
        let back = try ImageFile.read("\(dir!)/a.jpg").channels[0].storage
        let worst = zip(back, g.storage).map { Swift.abs($0 - Float($1)) }.max()!
        XCTAssertLessThanOrEqual(worst, 2)
    }
}
