import ArgumentParser
@testable import ContourCLI
import Foundation
import Torch
import XCTest

/// `contour bench models`: option checking, a tiny Contour-only run, its
/// bench-JSON rows, and (where a Python with torch is present) agreement with the official
/// class. No timing is asserted.
final class ModelsBenchTests: XCTestCase {
    func bench(_ args: [String]) throws -> ModelsBench {
        guard let command = try Contour.parseAsRoot(["bench", "models"] + args) as? ModelsBench else {
            throw ValidationError("bench models did not parse as ModelsBench")
        }
        return command
    }

    func testBadOptionsAreNamed() throws {
        let cases: [([String], String)] = [
            (["--model", "unet2d"], "--model: 'unet2d' is not benchmarked"),
            (["--encoder", "resnet101"], "--encoder: 'resnet101'"),
            (["--size", "30"], "--size 30: expected a positive multiple of 16"),
            (["--batches", "1,x"], "--batches '1,x'"),
            (["--batches", "0"], "--batches '0'"),
            (["--rounds", "1"], "--rounds ≥ 2"),
            (["--precision", "fp16"], "--precision 'fp16'"),
            (["--device", "tpu"], "--device 'tpu'"),
            (["--train-batch=-1"], "--train-batch -1"),
        ]
        for (args, expected) in cases {
            XCTAssertThrowsError(try bench(args + ["--python", "none"]).setup(), "\(args)") {
                XCTAssertTrue("\($0)".contains(expected), "\(args): \($0)")
            }
        }
        if !Device.isCUDAAvailable {
            XCTAssertThrowsError(try bench(["--device", "cuda", "--python", "none"]).setup()) {
                XCTAssertTrue("\($0)".contains("libtorch sees no CUDA GPU"), "\($0)")
            }
        }
        let s = try bench(["--python", "none", "--batches", "4, 1", "--precision", "bf16"]).setup()
        XCTAssertEqual(s.batches, [4, 1])
        XCTAssertEqual(s.trainBatch, 2)  // CPU default
        XCTAssertTrue(s.bf16)
        XCTAssertNil(s.python)
    }

    /// A Contour-only run at 32² with the ResNet-18 encoder: every row is reported, nothing of a reference.
    func testTinyRunWithoutPython() throws {
        let report = try bench(["--python", "none", "--encoder", "resnet18", "--size", "32", "--batches", "1,2", "--rounds", "2",
                                "--warmup", "0", "--train-batch", "1", "--threads", "1"]).measure()
        let rows = try XCTUnwrap(report["inference"] as? [[String: Any]])
        XCTAssertEqual(rows.map { $0["batch"] as? Int }, [1, 2])
        for row in rows {
            let perSecond = try XCTUnwrap(row["contour_per_s"] as? Double)
            XCTAssertTrue(perSecond.isFinite && perSecond > 0)
            XCTAssertEqual((row["contour_ms_rounds"] as? [Double])?.count, 2)
            XCTAssertNil(row["speed_ratio"])
        }
        let training = try XCTUnwrap(report["training"] as? [String: Any])
        XCTAssertTrue((training["first_loss_contour"] as? Double ?? .nan).isFinite)
        XCTAssertNil(training["time_ratio"])
        XCTAssertEqual(report["threads_contour"] as? Int, 1)
        XCTAssertNil(report["torch_reference"])
        let text = ModelsBench.text(report)
        XCTAssertTrue(text.contains("ConDSeg-resnet18 32², cpu fp32, threads: Contour 1"), text)
        XCTAssertTrue(text.contains("no reference (--python none)"), text)
    }

    /// With a Python that has torch and safetensors (CONTOUR_TEST_PYTHON, .venv-bench or
    /// /work/venv-torch), the official class loads Contour's weights and agrees on the heads and
    /// the first training loss — the checks the command makes before timing.
    func testAgreesWithTheOfficialClass() throws {
        let candidates = [ProcessInfo.processInfo.environment["CONTOUR_TEST_PYTHON"], ".venv-bench/bin/python", "/work/venv-torch/bin/python"]
        guard let python = candidates.compactMap({ $0 }).first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw XCTSkip("no Python with torch (set CONTOUR_TEST_PYTHON)")
        }
        guard FileManager.default.fileExists(atPath: ModelsReference.script) else { throw XCTSkip("not run from the repository root") }
        let report = try bench(["--python", python, "--encoder", "resnet18", "--size", "32", "--batches", "2", "--rounds", "2",
                                "--warmup", "0", "--train-batch", "2", "--threads", "1"]).measure()
        let check = try XCTUnwrap(report["check_inference"] as? [String: Any])
        XCTAssertLessThanOrEqual(try XCTUnwrap(check["max_rel_diff"] as? Double), 1e-4)
        XCTAssertGreaterThan(try XCTUnwrap(check["max_abs_logit"] as? Double), 1e-3)
        let training = try XCTUnwrap(report["training"] as? [String: Any])
        let a = try XCTUnwrap(training["first_loss_contour"] as? Double), b = try XCTUnwrap(training["first_loss_reference"] as? Double)
        XCTAssertEqual(a, b, accuracy: 1e-5 * max(1, abs(b)))
        XCTAssertNotNil((report["inference"] as? [[String: Any]])?.first?["time_ratio"])
        XCTAssertNotNil(report["torch_reference"])
    }
}
