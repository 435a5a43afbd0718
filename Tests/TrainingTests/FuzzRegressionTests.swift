import Foundation
import XCTest
import Geometry
import Imaging
import Torch
@testable import Training

/// Every input under fuzz/regressions (crashes found by the fuzz targets, and headers that claim
/// more than a file can hold) is a clear error naming the file, not a crash or an allocation of
/// what the header claims; every seed under fuzz/corpus still reads.
final class FuzzRegressionTests: XCTestCase {
    static let fuzz = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../fuzz").standardized.path

    /// The reader a fuzz target exercises, by target folder and file.
    func read(_ target: String, _ path: String) throws {
        switch target {
        case "png", "jpeg", "tiff", "nifti", "nifti-gz": _ = try ImageFile.read(path)
        case "npy":
            _ = try ImageFile.read(path)
            _ = try Tensor.loadNPY(path)
        case "safetensors": _ = try Safetensors.load(path)
        case "pth": _ = try PyTorchCheckpoint.load(path)
        case "pickle": if path.hasSuffix(".pth") { _ = try PyTorchCheckpoint.load(path) }
        case "dataset": _ = try DatasetDescription.read(path: path)
        case "landmarks":
            if (try? Landmarks.read(path: path, rank: 2)) == nil { _ = try Landmarks.read(path: path, rank: 3) }
        case "config": _ = try ExperimentConfig.load(path: path)
        default: XCTFail("unknown fuzz target folder \(target)")
        }
    }

    func files(_ folder: String) throws -> [(target: String, path: String)] {
        let root = "\(Self.fuzz)/\(folder)"
        return try FileManager.default.contentsOfDirectory(atPath: root).sorted().flatMap { target in
            try FileManager.default.contentsOfDirectory(atPath: "\(root)/\(target)").sorted().map { (target, "\(root)/\(target)/\($0)") }
        }
    }

    func testRegressionInputsAreErrorsNamingTheFile() throws {
        let inputs = try files("regressions").filter { !($0.target == "pickle" && $0.path.hasSuffix(".pkl")) }
        XCTAssertGreaterThanOrEqual(inputs.count, 12)
        for (target, path) in inputs {
            XCTAssertThrowsError(try read(target, path), path) { error in
                XCTAssertTrue("\(error)".contains(path), "\(path): the error does not name the file: \(error)")
            }
        }
    }

    func testHeadersClaimingMoreThanTheLimitNameTheClaim() throws {
        let r = "\(Self.fuzz)/regressions"
        let cases: [(String, String, String)] = [
            ("png", "huge-claim.png", "1000000000000 elements"), ("png", "tiny-file-big-claim.png", "30000 × 30000 pixels"),
            ("nifti", "huge-claim.nii", "1000000000000 elements"), ("nifti", "truncated-claim.nii", "more than a 416-byte file can hold"),
            ("npy", "huge-shape.npy", "1000000000000 elements"), ("npy", "overflow-shape.npy", "overflows"),
            ("safetensors", "overflow-shape.safetensors", "overflows"), ("safetensors", "huge-shape.safetensors", "1000000000000 elements"),
            ("pickle", "stride0-overflow.pth", "overflows"), ("pickle", "stride0-huge.pth", "1099511627776 elements"),
            ("pth", "zip-offset-past-int64.pth", "past the file's end"),
        ]
        for (target, name, claim) in cases {
            XCTAssertThrowsError(try read(target, "\(r)/\(target)/\(name)")) { error in
                XCTAssertTrue("\(error)".contains(claim), "\(name): expected the claim '\(claim)' in: \(error)")
            }
        }
    }

    func testElementCountsOverflowToNil() {
        XCTAssertEqual(ElementLimit.product([3, 4, 5]), 60)
        XCTAssertEqual(ElementLimit.product([]), 1)
        XCTAssertNil(ElementLimit.product([1 << 32, 1 << 32]))
        XCTAssertNil(ElementLimit.product([-1, 4]))
        XCTAssertNil(ElementLimit.problem([512, 512, 512], source: "x"))
        XCTAssertNotNil(ElementLimit.problem([100_000, 100_000, 1], source: "x"))
    }

    func testSeedCorporaRead() throws {
        for (target, path) in try files("corpus") where target != "pickle" {
            XCTAssertNoThrow(try read(target, path), path)
        }
    }
}
