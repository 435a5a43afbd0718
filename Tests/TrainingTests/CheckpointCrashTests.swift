import Foundation
import XCTest
import NeuralNet
import Torch
@testable import Training

/// A run killed with SIGKILL at any moment never leaves a corrupt `latest`.
///
/// The writer is this very test binary, re-launched with `CONTOUR_CHECKPOINT_WRITER` set: it
/// saves checkpoints in a loop until killed.
final class CheckpointCrashTests: XCTestCase {
    func testWriterLoop() throws {
        guard let folder = ProcessInfo.processInfo.environment["CONTOUR_CHECKPOINT_WRITER"] else {
            throw XCTSkip("helper for testSIGKILLNeverCorruptsLatest; runs only when launched by it")
        }
        let model = try Sequential(Linear(64, 64), Linear(64, 64))
        let optimizer = try Adam(model.parameters(), learningRate: 0.1)
        let store = try CheckpointStore(folder: folder)
        var epoch = 1
        while true {
            try (model(try Tensor.randn([4, 64])).square().mean()).backward()
            try optimizer.step()
            try store.save("latest", model: model, optimizer: optimizer,
                           state: TrainingState(epoch: epoch, iteration: epoch, bestValue: nil, bestEpoch: nil, skippedSteps: 0,
                                                config: [:], contourVersion: "test"))
            epoch += 1
        }
    }

    func testSIGKILLNeverCorruptsLatest() throws {
        let folder = NSTemporaryDirectory() + "contour-kill-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let binary = URL(fileURLWithPath: CommandLine.arguments[0])
        var lastEpoch = 0
        for round in 0..<5 {
            let p = Process()
            p.executableURL = binary
            p.arguments = ["TrainingTests.CheckpointCrashTests/testWriterLoop"]
            var env = ProcessInfo.processInfo.environment
            env["CONTOUR_CHECKPOINT_WRITER"] = folder
            p.environment = env
            p.standardOutput = FileHandle.nullDevice
            p.standardError = FileHandle.nullDevice
            try p.run()
            // Let it write for a while (loading libtorch takes ~0.5 s), then kill it mid-write.
            let deadline = Date().addingTimeInterval(20)
            while CheckpointStore.latestIfAny(folder) == nil || (try? CheckpointStore.readState("\(folder)/latest").epoch) ?? 0 < 3 {
                guard Date() < deadline, p.isRunning else { break }
                usleep(20_000)
            }
            usleep(UInt32(37_000 * (round + 1)))
            kill(p.processIdentifier, SIGKILL)
            p.waitUntilExit()
            XCTAssertEqual(p.terminationReason, .uncaughtSignal, "round \(round): the writer should have been killed")
            // Whatever moment it died at, latest is complete and loads.
            let state = try CheckpointStore.readState("\(folder)/latest")
            XCTAssertGreaterThanOrEqual(state.epoch, 1)
            let model = try Sequential(Linear(64, 64), Linear(64, 64))
            let optimizer = try Adam(model.parameters(), learningRate: 0.1)
            _ = try CheckpointStore.load("\(folder)/latest", into: model, optimizer: optimizer)
            lastEpoch = state.epoch
        }
        XCTAssertGreaterThan(lastEpoch, 0)
        // Old checkpoint folders are cleaned up by the next save: latest and previous remain.
        let store = try CheckpointStore(folder: folder)
        store.removeOrphans()
        let dirs = try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasPrefix("latest-") }
        XCTAssertTrue((1...2).contains(dirs.count), "\(dirs)")  // 1 when killed between the two link swaps
        _ = try CheckpointStore.readState("\(folder)/previous")
    }
}
