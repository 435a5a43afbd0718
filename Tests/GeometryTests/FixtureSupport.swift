import Foundation
import XCTest
@testable import Geometry

/// Loads the generator's fixtures (scripts/fixtures/make_geometry_fixtures.py). MetricsTests compiles this
/// same file (a symlink) against its own bundle.
enum Fixture {
    static func url(_ name: String, _ ext: String) throws -> URL {
        guard let url = Bundle.module.url(forResource: name, withExtension: ext, subdirectory: "Fixtures") else {
            throw GeometryError.format("missing fixture \(name).\(ext): run scripts/fixtures/make_geometry_fixtures.py")
        }
        return url
    }

    static func npy(_ name: String) throws -> NPYArray {
        let data = try Data(contentsOf: url(name, "npy"))
        return try NPYArray(decoding: [UInt8](data), name: name)
    }

    static func mask(_ name: String, spacing: [Double]? = nil) throws -> Grid<Bool> {
        let a = try npy(name)
        return try Grid(shape: a.shape, spacing: spacing, storage: a.doubles().map { $0 != 0 })
    }

    static func doubles(_ name: String) throws -> Grid<Double> {
        let a = try npy(name)
        return try Grid(shape: a.shape, storage: a.doubles())
    }

    static func ints(_ name: String) throws -> Grid<Int32> {
        let a = try npy(name)
        return try Grid(shape: a.shape, storage: a.doubles().map { Int32($0) })
    }

    static func expected() throws -> [String: Any] {
        let data = try Data(contentsOf: url("expected", "json"))
        return try JSONSerialization.jsonObject(with: data) as! [String: Any]
    }
}

func assertClose(_ a: Grid<Double>, _ b: Grid<Double>, tolerance: Double, _ message: String = "",
                 file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(a.shape, b.shape, message, file: file, line: line)
    guard a.shape == b.shape else { return }
    var worst = 0.0
    for i in 0..<a.count {
        let x = a.storage[i], y = b.storage[i]
        if x == y { continue }
        worst = max(worst, abs(x - y))
    }
    XCTAssertLessThanOrEqual(worst, tolerance, "max |Δ| \(worst) \(message)", file: file, line: line)
}
