import Foundation
import Imaging
import XCTest

/// `contour train … > log` as a user runs it: the built binary with stdout and stderr on pipes
/// (issue 18, item 7).
final class ConsoleOutputTests: XCTestCase {
    var dir: String!

    override func setUpWithError() throws {
        dir = NSTemporaryDirectory() + "contour-console-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: dir) }

    func config(epochs: Int, validationInterval: Int) throws -> String {
        try DemoData.write(kind: .tubular, to: "\(dir!)/data", trainCount: 5, testCount: 0, seed: 2)
        let path = "\(dir!)/run.yaml"
        try """
        data: {dataset: \(dir!)/data, patchSize: [32, 32], batchSize: 2, workers: 1, preset: none}
        model: {name: unet2d, options: {stages: 2, baseWidth: 4}}
        objectives: [cedice]
        optimizer: {name: adam, learningRate: 0.01}
        run: {epochs: \(epochs), iterationsPerEpoch: 3, validationInterval: \(validationInterval), seed: 1, threads: 1, output: \(dir!)/run}
        """.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func testResultsGoToStdoutProgressToStderrWithoutRedraws() throws {
        let p = Process(), out = Pipe(), err = Pipe()
        p.executableURL = try contourBinary()
        p.arguments = ["train", "--config", try config(epochs: 2, validationInterval: 1)]
        p.standardOutput = out
        p.standardError = err
        try p.run()
        // Drain stderr on another thread so neither pipe can fill up and stall the run.
        var errData = Data()
        let drained = DispatchSemaphore(value: 0)
        DispatchQueue.global().async { errData = err.fileHandleForReading.readDataToEndOfFile(); drained.signal() }
        let stdout = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        drained.wait()
        p.waitUntilExit()
        let stderr = String(decoding: errData, as: UTF8.self)
        XCTAssertEqual(p.terminationStatus, 0, stdout + stderr)

        let outLines = stdout.split(separator: "\n").map(String.init)
        XCTAssertEqual(outLines.count, 3, stdout)
        XCTAssertTrue(outLines[0].hasPrefix("epoch 1: loss ") && outLines[0].contains("val Dice"), outLines[0])
        XCTAssertTrue(outLines[1].hasPrefix("epoch 2: loss "), outLines[1])
        XCTAssertTrue(outLines[2].hasPrefix("done: "), outLines[2])
        XCTAssertFalse(stdout.contains("it/s"), "no progress on stdout: \(stdout)")

        XCTAssertFalse(stdout.contains("\r") || stderr.contains("\r"), "no carriage-return redraws on a pipe")
        XCTAssertFalse(stderr.contains("\u{1B}["), "no terminal escapes on a pipe")
        let errLines = stderr.split(separator: "\n").map(String.init)
        // Three iterations per epoch: one line each (every one crosses a tenth), two epochs.
        XCTAssertEqual(errLines.filter { $0.hasPrefix("epoch 1/2 ") }.count, 3, stderr)
        XCTAssertEqual(errLines.filter { $0.hasPrefix("epoch 2/2 ") }.count, 3, stderr)
        XCTAssertTrue(errLines.allSatisfy { $0.contains(" it/s ") }, "only progress on stderr: \(stderr)")
        XCTAssertFalse(stderr.contains("epoch 1: loss"), "results are not on stderr")
    }

    /// Line-buffered stdout: the first epoch line reaches the pipe while training goes on. Forty
    /// epoch lines stay under a 4 KB block, so block buffering would deliver them all at exit.
    func testEachEpochLineArrivesWhileTraining() throws {
        let p = Process(), out = Pipe()
        p.executableURL = try contourBinary()
        p.arguments = ["train", "--config", try config(epochs: 40, validationInterval: 1000)]
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        try p.run()
        var received = ""
        let deadline = Date().addingTimeInterval(120)
        while !received.contains("\n"), Date() < deadline {
            let chunk = out.fileHandleForReading.availableData
            if chunk.isEmpty { break }    // end of file: the process exited
            received += String(decoding: chunk, as: UTF8.self)
        }
        let runningWhenRead = p.isRunning
        if runningWhenRead { kill(p.processIdentifier, SIGKILL) }
        p.waitUntilExit()
        XCTAssertTrue(received.hasPrefix("epoch 1: loss "), received)
        XCTAssertFalse(received.contains("done:"), "everything arrived at once, at exit: \(received)")
        XCTAssertTrue(runningWhenRead, "the epoch line arrived only when the run ended: stdout is not line-buffered")
        XCTAssertEqual(p.terminationReason, .uncaughtSignal)
    }
}
