import Foundation
import XCTest
import Geometry
import Imaging
@testable import Training

/// The report renders in a real browser: headless Chromium (Debian's `chromium`; `make check-report`
/// installs it) screenshots it, and the picture must not be blank.
final class ReportRenderTests: XCTestCase {
    func testReportRendersInHeadlessChromium() throws {
        guard let chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw XCTSkip("chromium is not installed (make check-report installs it)")
        }
        let dir = NSTemporaryDirectory() + "contour-report-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var records: [EpochRecord] = []
        for e in 1...5 {
            let x = Double(e)
            let validation: [String: Double]? = e % 2 == 1 ? ["dice": 0.5 + 0.08 * x, "hd95": 10 / x] : nil
            records.append(EpochRecord(epoch: e, trainLoss: 1 / x, objectives: ["cedice": 1 / x], learningRate: 0.01 * (6 - x),
                                       seconds: 1, skippedSteps: 0, validation: validation))
        }
        var image = try Grid(shape: [64, 64], storage: [Float](repeating: 0, count: 64 * 64))
        var truth = try Grid(shape: [64, 64], storage: [UInt8](repeating: 0, count: 64 * 64))
        for y in 0..<64 { for x in 0..<64 where (x - 32) * (x - 32) + (y - 32) * (y - 32) < 300 { image[y, x] = 1; truth[y, x] = 1 } }
        let html = try RunReport.html(title: "render test", records: records, finalMetrics: [("dice", 0.9, 0.01, 3)],
                                      overlays: [RunReport.Overlay(caseID: "c1", dice: 0.9, image: image, truth: truth, prediction: truth)])
        try html.write(toFile: "\(dir)/report.html", atomically: true, encoding: .utf8)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: chromium)
        p.arguments = ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--window-size=1000,800",
                       "--screenshot=\(dir)/shot.png", "file://\(dir)/report.html"]
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0)
        let shot = try PNGFile.readImage(path: "\(dir)/shot.png")
        // Not blank: many distinct values, and some dark (text, axes) and some coloured (curves) pixels.
        let red = shot.channels[0].storage, green = shot.channels[1].storage, blue = shot.channels[2].storage
        let distinct = Set(red.map { Int($0) }).count
        XCTAssertGreaterThan(distinct, 20, "the screenshot looks blank")
        XCTAssertGreaterThan(red.filter { $0 < 100 }.count, 500, "no text or axes drawn")
        var coloured = 0
        for i in 0..<red.count where Swift.abs(red[i] - green[i]) > 60 || Swift.abs(green[i] - blue[i]) > 60 { coloured += 1 }
        XCTAssertGreaterThan(coloured, 200, "no coloured curves or overlays drawn")
    }
}
