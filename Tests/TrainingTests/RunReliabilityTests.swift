import Foundation
import Geometry
import Imaging
import Torch
import XCTest
@testable import Training

/// Issue 15: the run-folder lock, interruption at a step, write failures and damaged checkpoints.
final class RunReliabilityTests: XCTestCase {
    var dir: String!

    override func setUpWithError() throws {
        dir = NSTemporaryDirectory() + "contour-reliability-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        Interruption.reset()
    }

    override func tearDownWithError() throws {
        Interruption.reset()
        try? FileManager.default.removeItem(atPath: dir)
    }

    func config(epochs: Int = 2, iterations: Int = 3, output: String) throws -> ExperimentConfig {
        let data = "\(dir!)/data"
        if !FileManager.default.fileExists(atPath: "\(data)/dataset.json") {
            try DemoData.write(kind: .tubular, to: data, trainCount: 5, testCount: 0, seed: 3)
        }
        return try ExperimentConfig.fromOverrides([
            "data.dataset=\(data)", "data.patchSize=[32, 32]", "data.batchSize=2", "data.workers=1", "data.preset=none",
            "model.name=unet2d", "model.options={stages: 2, baseWidth: 4}", "objectives=cedice",
            "optimizer.name=adam", "optimizer.learningRate=0.01", "optimizer.weightDecay=0",
            "run.epochs=\(epochs)", "run.iterationsPerEpoch=\(iterations)", "run.validationInterval=1", "run.seed=5", "run.threads=1",
            "run.output=\(output)",
        ])
    }

    func weights(_ run: String) throws -> [String: [UInt8]] {
        let file = try Safetensors.load("\(run)/checkpoints/latest/model.safetensors")
        return Dictionary(uniqueKeysWithValues: try file.tensors.map { ($0.name, try $0.tensor.rawBytes()) })
    }

    // MARK: 5. Run-folder lock

    func testASecondLockRefusesNamingTheHolder() throws {
        let run = "\(dir!)/run"
        let first = try RunFolderLock(folder: run)
        XCTAssertThrowsError(try RunFolderLock(folder: run)) { error in
            let m = "\(error)"
            XCTAssertTrue(m.contains("\(run) is in use") && m.contains("process \(getpid())") && m.contains(RunFolderLock.fileName), m)
        }
        // Training into the locked folder refuses before writing anything.
        XCTAssertThrowsError(try Trainer(config: try config(output: run), quiet: true).train()) { error in
            XCTAssertTrue("\(error)".contains("process \(getpid())"), "\(error)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: "\(run)/config.yaml"))
        first.release()
        let again = try RunFolderLock(folder: run)
        again.release()
        // A finished run lets go of it.
        _ = try Trainer(config: try config(epochs: 1, iterations: 1, output: run), quiet: true).train()
        try RunFolderLock(folder: run).release()
    }

    /// The helper process of `testTheLockIsReleasedWhenItsHolderIsKilled`: takes the lock and waits to be killed.
    func testLockHolder() throws {
        guard let folder = ProcessInfo.processInfo.environment["CONTOUR_LOCK_HOLDER"] else {
            throw XCTSkip("helper for testTheLockIsReleasedWhenItsHolderIsKilled; runs only when launched by it")
        }
        let lock = try RunFolderLock(folder: folder)
        while true { sleep(1); withExtendedLifetime(lock) {} }
    }

    func testTheLockIsReleasedWhenItsHolderIsKilled() throws {
        let run = "\(dir!)/run"
        let p = Process()
        p.executableURL = URL(fileURLWithPath: CommandLine.arguments[0])
        p.arguments = ["TrainingTests.RunReliabilityTests/testLockHolder"]
        p.environment = ProcessInfo.processInfo.environment.merging(["CONTOUR_LOCK_HOLDER": run]) { _, new in new }
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        let lockFile = "\(run)/\(RunFolderLock.fileName)"
        let deadline = Date().addingTimeInterval(30)
        while (try? String(contentsOfFile: lockFile, encoding: .utf8))?.hasPrefix("\(p.processIdentifier)\n") != true {
            guard Date() < deadline, p.isRunning else { p.terminate(); return XCTFail("the helper never took the lock") }
            usleep(20_000)
        }
        XCTAssertThrowsError(try RunFolderLock(folder: run)) { XCTAssertTrue("\($0)".contains("process \(p.processIdentifier)"), "\($0)") }
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
        XCTAssertEqual(p.terminationReason, .uncaughtSignal)
        // No unlock ran, yet the kernel released it: the folder is free.
        let lock = try RunFolderLock(folder: run)
        XCTAssertEqual(try String(contentsOfFile: lockFile, encoding: .utf8), "\(getpid())\n")
        lock.release()
    }

    // MARK: 4. Interruption

    /// Requests a stop after global step `at`, as a signal would.
    final class StopAt: TrainingObserver {
        let at: Int
        init(_ at: Int) { self.at = at }
        func stepDidEnd(step: Int, total: Double, losses: [String: Double], weights: [String: Double], learningRate: Double) throws {
            if step == at { Interruption.request(SIGTERM) }
        }
    }

    func testAnInterruptedRunSavesTheStepAndResumesToTheSameWeights() throws {
        let straight = "\(dir!)/straight", cut = "\(dir!)/cut"
        _ = try Trainer(config: try config(output: straight), quiet: true).train()
        let trainer = try Trainer(config: try config(output: cut), quiet: true)
        trainer.observers.append(StopAt(4))  // epoch 2, after its first step
        XCTAssertThrowsError(try trainer.train()) { error in
            guard let stop = error as? TrainingInterrupted else { return XCTFail("\(error)") }
            XCTAssertEqual(stop.epoch, 2)
            XCTAssertEqual(stop.step, 1)
            XCTAssertTrue(stop.description.contains("SIGTERM") && stop.description.contains("contour train --resume \(cut)"), stop.description)
        }
        XCTAssertEqual(Interruption.exitCode, 143)
        let state = try CheckpointStore.readState("\(cut)/checkpoints/latest")
        XCTAssertEqual(state.epoch, 1)
        XCTAssertEqual(state.iteration, 4)
        XCTAssertEqual(state.partialEpoch?.steps, 1)
        XCTAssertEqual(try RunLog(path: "\(cut)/log.jsonl").read().count, 1)
        // The lock went with the interrupted run.
        try RunFolderLock(folder: cut).release()

        Interruption.reset()
        _ = try Trainer(config: try Trainer.savedConfig(cut), quiet: true).train(resume: true)
        XCTAssertEqual(try weights(cut), try weights(straight), "an interrupted and resumed run equals the straight one")
        let a = try RunLog(path: "\(straight)/log.jsonl").read(), b = try RunLog(path: "\(cut)/log.jsonl").read()
        XCTAssertEqual(a.map(\.trainLoss), b.map(\.trainLoss), "the cut epoch's loss still averages all its steps")
        XCTAssertEqual(a.map(\.validation), b.map(\.validation))
    }

    func testAnInterruptionAfterAnEpochsLastStepResumesIntoItsValidation() throws {
        let straight = "\(dir!)/straight", cut = "\(dir!)/cut"
        _ = try Trainer(config: try config(output: straight), quiet: true).train()
        let trainer = try Trainer(config: try config(output: cut), quiet: true)
        trainer.observers.append(StopAt(3))  // the last step of epoch 1
        XCTAssertThrowsError(try trainer.train()) { XCTAssertEqual(($0 as? TrainingInterrupted)?.step, 3) }
        XCTAssertEqual(try CheckpointStore.readState("\(cut)/checkpoints/latest").partialEpoch?.steps, 3)
        Interruption.reset()
        _ = try Trainer(config: try Trainer.savedConfig(cut), quiet: true).train(resume: true)
        XCTAssertEqual(try weights(cut), try weights(straight))
        XCTAssertEqual(try RunLog(path: "\(cut)/log.jsonl").read().map(\.validation),
                       try RunLog(path: "\(straight)/log.jsonl").read().map(\.validation))
    }

    /// Requests a stop when epoch `at` ends (after its validation and save), as a signal arriving
    /// during that validation would be seen.
    final class StopAfterEpoch: TrainingObserver {
        let at: Int
        init(_ at: Int) { self.at = at }
        func epochDidEnd(step: Int, record: EpochRecord) throws {
            if record.epoch == at { Interruption.request(SIGINT) }
        }
    }

    /// A signal during an epoch's validation stops the run at that epoch's end (saved whole, no
    /// step of the next epoch taken), and the resumed run equals the straight one; during the last
    /// epoch's validation the run completes, with its report.
    func testASignalDuringValidationStopsAtTheEpochsEnd() throws {
        let straight = "\(dir!)/straight", cut = "\(dir!)/cut", last = "\(dir!)/last"
        _ = try Trainer(config: try config(output: straight), quiet: true).train()
        let trainer = try Trainer(config: try config(output: cut), quiet: true)
        trainer.observers.append(StopAfterEpoch(1))
        XCTAssertThrowsError(try trainer.train()) { error in
            guard let stop = error as? TrainingInterrupted else { return XCTFail("\(error)") }
            XCTAssertEqual(stop.epoch, 1)
            XCTAssertEqual(stop.step, 3)
            XCTAssertTrue(stop.description.contains("SIGINT"), stop.description)
        }
        XCTAssertEqual(Interruption.exitCode, 130)
        let state = try CheckpointStore.readState("\(cut)/checkpoints/latest")
        XCTAssertEqual(state.epoch, 1)
        XCTAssertEqual(state.iteration, 3, "no step of epoch 2 was taken")
        XCTAssertNil(state.partialEpoch)
        XCTAssertEqual(try RunLog(path: "\(cut)/log.jsonl").read().count, 1)
        Interruption.reset()
        _ = try Trainer(config: try Trainer.savedConfig(cut), quiet: true).train(resume: true)
        XCTAssertEqual(try weights(cut), try weights(straight))
        XCTAssertEqual(try RunLog(path: "\(cut)/log.jsonl").read().map(\.validation),
                       try RunLog(path: "\(straight)/log.jsonl").read().map(\.validation))

        let finishing = try Trainer(config: try config(output: last), quiet: true)
        finishing.observers.append(StopAfterEpoch(2))
        defer { Interruption.reset() }
        let summary = try finishing.train()
        XCTAssertEqual(summary.epochs, 2)
        XCTAssertTrue(FileManager.default.fileExists(atPath: "\(last)/report.html"))
        XCTAssertEqual(try weights(last), try weights(straight))
    }

    // MARK: 6. Write failures

    /// Runs `body` with files limited to `bytes` (RLIMIT_FSIZE) and SIGXFSZ ignored, so an
    /// oversized write fails with EFBIG as on a full disk, instead of killing the process.
    func withFileSizeLimit<T>(_ bytes: Int, _ body: () throws -> T) rethrows -> T {
        var old = rlimit()
        getrlimit(RLIMIT_FSIZE_VALUE, &old)
        var small = old
        small.rlim_cur = rlim_t(bytes)
        let handler = signal(SIGXFSZ, SIG_IGN)
        setrlimit(RLIMIT_FSIZE_VALUE, &small)
        defer {
            setrlimit(RLIMIT_FSIZE_VALUE, &old)
            signal(SIGXFSZ, handler)
        }
        return try body()
    }

    func testAFailingCheckpointWriteStopsTrainingNamesTheFileAndKeepsLatest() throws {
        let run = "\(dir!)/run"
        _ = try Trainer(config: try config(epochs: 1, iterations: 1, output: run), quiet: true).train()
        let before = try weights(run)
        let trainer = try Trainer(config: try Trainer.savedConfig(run, overrides: ["run.epochs=3"]), quiet: true)
        // 4 KB: the log and state.json fit, the weights do not.
        let outcome = withFileSizeLimit(4096) { Result { try trainer.train(resume: true) } }
        guard case .failure(let error) = outcome else { return XCTFail("training went on without saving") }
        let message = "\(error)"
        XCTAssertTrue(message.contains("cannot save checkpoint") && message.contains("\(run)/checkpoints/")
                      && message.contains("model.safetensors") && message.contains("File too large"), message)
        XCTAssertTrue(message.contains("still holds the previous checkpoint"), message)
        // latest is the epoch-1 checkpoint, whole and loadable; nothing partial is left behind.
        XCTAssertEqual(try weights(run), before)
        XCTAssertEqual(try CheckpointStore.readState("\(run)/checkpoints/latest").epoch, 1)
        let names = try FileManager.default.contentsOfDirectory(atPath: "\(run)/checkpoints")
        XCTAssertFalse(names.contains { $0.contains(".tmp-") }, "\(names)")
        let store = try CheckpointStore(folder: "\(run)/checkpoints")
        for n in names where !store.isLink(n) { XCTAssertTrue(store.isReferenced(n), "partial checkpoint \(n) left: \(names)") }
        XCTAssertEqual(try RunLog(path: "\(run)/log.jsonl").read().count, 1, "no epoch is logged without its checkpoint")
        try RunFolderLock(folder: run).release()
        // With room again, the run resumes from that checkpoint.
        _ = try Trainer(config: try Trainer.savedConfig(run, overrides: ["run.epochs=2"]), quiet: true).train(resume: true)
        XCTAssertEqual(try CheckpointStore.readState("\(run)/checkpoints/latest").epoch, 2)
    }

    func testAFailingPredictionWriteNamesThePathAndLeavesTheOldFile() throws {
        let path = "\(dir!)/pred.png"
        let small = try Grid<UInt8>(shape: [4, 4], storage: [UInt8](repeating: 1, count: 16))
        try ImageFile.writeLabels(small, path: path)
        let old = try Data(contentsOf: URL(fileURLWithPath: path))
        // Incompressible labels, so the PNG is larger than the limit.
        var g = SystemRandomNumberGenerator()
        let large = try Grid<UInt8>(shape: [256, 256], storage: (0..<65_536).map { _ in UInt8.random(in: 0...255, using: &g) })
        let outcome = withFileSizeLimit(4096) { Result { try ImageFile.writeLabels(large, path: path) } }
        guard case .failure(let error) = outcome else { return XCTFail("the oversized write succeeded") }
        XCTAssertTrue("\(error)".contains(path), "\(error)")
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: path)), old)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.contains(".tmp-") }, [])
    }

    // MARK: 7. Damaged checkpoints on resume

    /// A file of the latest checkpoint, by the path the messages name.
    func latestFile(_ run: String, _ name: String) -> String { "\(run)/checkpoints/latest/\(name)" }

    func truncate(_ path: String) throws {
        let size = try XCTUnwrap(FileManager.default.attributesOfItem(atPath: path)[.size] as? Int)
        XCTAssertEqual(Glibc.truncate(path, off_t(size / 2)), 0)
    }

    func testATruncatedLatestIsAnErrorNamingItThatOffersThePreviousCheckpoint() throws {
        let run = "\(dir!)/run"
        _ = try Trainer(config: try config(epochs: 2, iterations: 1, output: run), quiet: true).train()
        XCTAssertEqual(try CheckpointStore.readState("\(run)/checkpoints/previous").epoch, 1, "the store keeps the last two")
        let model = latestFile(run, "model.safetensors")
        try truncate(model)
        let resumed = try Trainer.savedConfig(run, overrides: ["run.epochs=3"])
        XCTAssertThrowsError(try Trainer(config: resumed, quiet: true).train(resume: true)) { error in
            let m = "\(error)"
            XCTAssertTrue(m.contains(model) && m.contains("epoch 1") && m.contains("--resume-from previous"), m)
        }
        XCTAssertEqual(try RunLog(path: "\(run)/log.jsonl").read().count, 2, "a failed resume changes nothing")
        let trainer = try Trainer(config: resumed, quiet: true)
        _ = try trainer.train(resume: true, resumeFrom: "previous")
        XCTAssertTrue(trainer.warnings.contains { $0.contains("checkpoint before latest") }, "\(trainer.warnings)")
        XCTAssertEqual(try RunLog(path: "\(run)/log.jsonl").read().map(\.epoch), [1, 2, 3])
        XCTAssertEqual(try CheckpointStore.readState("\(run)/checkpoints/latest").epoch, 3)
        XCTAssertEqual(try CheckpointStore.readState("\(run)/checkpoints/previous").epoch, 2)
    }

    func testADamagedStateOrMismatchedWeightsIsAnErrorNotAFreshStart() throws {
        let run = "\(dir!)/run"
        _ = try Trainer(config: try config(epochs: 2, iterations: 1, output: run), quiet: true).train()
        let resumed = try Trainer.savedConfig(run, overrides: ["run.epochs=3"])
        let state = latestFile(run, "state.json")
        let saved = try Data(contentsOf: URL(fileURLWithPath: state))
        try truncate(state)
        XCTAssertThrowsError(try Trainer(config: resumed, quiet: true).train(resume: true)) { error in
            XCTAssertTrue("\(error)".contains(state) && "\(error)".contains("--resume-from previous"), "\(error)")
        }
        try saved.write(to: URL(fileURLWithPath: state))
        // Weights of another model.
        let model = latestFile(run, "model.safetensors")
        try Safetensors.save([("other.weight", try Tensor.randn([3, 3]))], to: model)
        XCTAssertThrowsError(try Trainer(config: resumed, quiet: true).train(resume: true)) { error in
            let m = "\(error)"
            XCTAssertTrue(m.contains(model) && m.contains("does not match") && m.contains("--resume-from previous"), m)
        }
        XCTAssertEqual(try RunLog(path: "\(run)/log.jsonl").read().count, 2)
        XCTAssertEqual(try CheckpointStore.readState("\(run)/checkpoints/latest").epoch, 2)
    }
}

/// Glibc imports RLIMIT_FSIZE as an enum case; setrlimit wants its raw value.
#if canImport(Glibc)
let RLIMIT_FSIZE_VALUE = __rlimit_resource_t(RLIMIT_FSIZE.rawValue)
#endif
