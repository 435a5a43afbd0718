import Foundation
import Imaging
import Training
import XCTest

/// `contour train` under SIGINT/SIGTERM (the built binary as a subprocess): it finishes the step,
/// saves `latest`, prints how to resume and exits 130/143; `--resume` continues; a second train
/// into the folder while the first runs refuses naming its pid (issue 15, items 4 and 5).
final class InterruptCommandTests: XCTestCase {
    var dir: String!

    override func setUpWithError() throws {
        dir = NSTemporaryDirectory() + "contour-interrupt-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try DemoData.write(kind: .tubular, to: "\(dir!)/data", trainCount: 5, testCount: 0, seed: 2)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: dir) }

    func arguments(run: String, epochs: Int = 2, iterations: Int = 400, width: Int = 2, patch: Int = 32) -> [String] {
        ["train", "--dataset", "\(dir!)/data", "--patch-size", "\(patch),\(patch)", "--batch-size", "2", "--epochs", "\(epochs)",
         "--iterations", "\(iterations)", "--threads", "1", "--output", run, "--set", "model.options={stages: 2, baseWidth: \(width)}",
         "--set", "data.preset=none", "--set", "data.workers=1"]
    }

    struct Finished {
        var status: Int32
        var reason: Process.TerminationReason
        var stderr: String
    }

    /// Starts `contour` with `arguments`, calls `whileRunning` once training has begun, waits.
    func run(_ arguments: [String], run folder: String, whileRunning: ((Process, () -> String) throws -> Void)? = nil) throws -> Finished {
        let p = Process(), err = Pipe()
        p.executableURL = try contourBinary()
        p.arguments = arguments
        p.standardOutput = FileHandle.nullDevice
        p.standardError = err
        let text = Locked(Data())
        let done = DispatchSemaphore(value: 0)
        try p.run()
        Thread {
            while case let d = err.fileHandleForReading.availableData, !d.isEmpty { text.update { $0.append(d) } }
            done.signal()
        }.start()
        if let whileRunning {
            // Training has begun once the run's config is written; let a few steps go by.
            let deadline = Date().addingTimeInterval(60)
            while !FileManager.default.fileExists(atPath: "\(folder)/config.yaml") {
                guard p.isRunning, Date() < deadline else { break }
                usleep(20_000)
            }
            usleep(500_000)
            try whileRunning(p) { String(decoding: text.value, as: UTF8.self) }
        }
        p.waitUntilExit()
        _ = done.wait(timeout: .now() + 10)
        return Finished(status: p.terminationStatus, reason: p.terminationReason, stderr: String(decoding: text.value, as: UTF8.self))
    }

    func testSIGINTSavesTheStepPrintsHowToResumeAndResumeFinishes() throws {
        let folder = "\(dir!)/run"
        var second: Finished?
        let first = try run(arguments(run: folder), run: folder) { p, _ in
            // While it trains, the folder is locked against a second train.
            second = try self.run(self.arguments(run: folder) + ["--overwrite"], run: folder)
            kill(p.processIdentifier, SIGINT)
        }
        let refused = try XCTUnwrap(second)
        XCTAssertNotEqual(refused.status, 0)
        XCTAssertTrue(refused.stderr.contains("is in use") && refused.stderr.contains("process "), refused.stderr)
        XCTAssertEqual(first.reason, .exit, first.stderr)
        XCTAssertEqual(first.status, 130, first.stderr)
        XCTAssertTrue(first.stderr.contains("interrupted by SIGINT") && first.stderr.contains("contour train --resume \(folder)"), first.stderr)
        let state = try CheckpointStore.readState("\(folder)/checkpoints/latest")
        let steps = try XCTUnwrap(state.partialEpoch?.steps, "latest records the unfinished epoch")
        XCTAssertEqual(state.iteration, state.epoch * 400 + steps)

        let resumed = try run(["train", "--resume", folder], run: folder)
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        XCTAssertTrue(resumed.stderr.contains("resuming \(folder)"), resumed.stderr)
        XCTAssertEqual(try String(contentsOfFile: "\(folder)/log.jsonl", encoding: .utf8).split(separator: "\n").count, 2)
        XCTAssertNil(try CheckpointStore.readState("\(folder)/checkpoints/latest").partialEpoch)
    }

    func testSIGTERMExits143AndASecondSignalExitsAtOnce() throws {
        let folder = "\(dir!)/run"
        let term = try run(arguments(run: folder, epochs: 1, iterations: 100_000), run: folder) { p, _ in kill(p.processIdentifier, SIGTERM) }
        XCTAssertEqual(term.status, 143, term.stderr)
        XCTAssertTrue(term.stderr.contains("interrupted by SIGTERM"), term.stderr)

        let other = "\(dir!)/other"
        // Wide layers on large patches: a step takes far longer than the gap between the signals.
        let twice = try run(arguments(run: other, epochs: 1, iterations: 100_000, width: 64, patch: 96), run: other) { p, stderr in
            kill(p.processIdentifier, SIGINT)
            let deadline = Date().addingTimeInterval(10)
            while !stderr().contains("send the signal again"), Date() < deadline { usleep(1_000) }
            kill(p.processIdentifier, SIGINT)
        }
        XCTAssertEqual(twice.status, 130, twice.stderr)
        XCTAssertTrue(twice.stderr.contains("send the signal again to quit at once"), twice.stderr)
        XCTAssertFalse(twice.stderr.contains("interrupted by SIGINT in epoch"), "the second signal does not wait for the step: \(twice.stderr)")
    }

    /// `--nproc-per-node`: the workers have their own process groups, so Ctrl-C reaches the launcher
    /// alone; it passes the signal on, the ranks stop at one step, rank 0 saves, and it exits 130.
    func testSIGINTToTheLauncherStopsEveryWorkerAtOneStep() throws {
        let folder = "\(dir!)/run"
        let stopped = try run(arguments(run: folder, epochs: 1, iterations: 100_000) + ["--nproc-per-node", "2"], run: folder) { p, _ in
            kill(p.processIdentifier, SIGINT)
        }
        XCTAssertEqual(stopped.status, 130, stopped.stderr)
        XCTAssertTrue(stopped.stderr.contains("[rank 1] ") && stopped.stderr.contains("[rank 0] interrupted by SIGINT"), stopped.stderr)
        let state = try CheckpointStore.readState("\(folder)/checkpoints/latest")
        XCTAssertEqual(state.iteration, try XCTUnwrap(state.partialEpoch?.steps))
    }
}
