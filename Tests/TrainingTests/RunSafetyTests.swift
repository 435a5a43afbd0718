import Foundation
import XCTest
import Imaging
import Torch
@testable import Training

/// Runs never lose work or mislead: no silent overwrite, resume in the named folder from any
/// working directory, the saved split, extending a finished run, and the data warnings.
final class RunSafetyTests: XCTestCase {
    var dir: String!

    override func setUpWithError() throws {
        dir = NSTemporaryDirectory() + "contour-safety-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: dir) }

    func data(_ kind: DemoKind = .tubular, count: Int = 6) throws -> String {
        let data = "\(dir!)/data-\(kind.rawValue)"
        if !FileManager.default.fileExists(atPath: "\(data)/dataset.json") {
            try DemoData.write(kind: kind, to: data, trainCount: count, testCount: 0, seed: 3)
        }
        return data
    }

    func config(dataset: String, output: String, epochs: Int = 1, extra: String = "") throws -> ExperimentConfig {
        try ExperimentConfig.load(yaml: """
        data: {dataset: \(dataset), patchSize: [32, 32], batchSize: 2, workers: 1, preset: none}
        model: {name: unet2d, options: {stages: 2, baseWidth: 2}}
        optimizer: {name: adam, learningRate: 0.01, weightDecay: 0}
        run: {epochs: \(epochs), iterationsPerEpoch: 2, seed: 5, threads: 1, output: \(output)}
        \(extra)
        """, name: "test")
    }

    func lines(_ path: String) throws -> Int { try RunLog(path: path).read().count }

    func testTrainingIntoAFolderThatHoldsARunRefusesAndOverwriteMovesItAside() throws {
        let run = "\(dir!)/run"
        _ = try Trainer(config: try config(dataset: try data(), output: run, epochs: 2), quiet: true).train()
        try FileManager.default.createDirectory(atPath: "\(run)/evaluation-val", withIntermediateDirectories: true)
        try Data("x".utf8).write(to: URL(fileURLWithPath: "\(run)/evaluation-val/summary.json"))
        let before = try Data(contentsOf: URL(fileURLWithPath: "\(run)/checkpoints/latest/model.safetensors"))

        // The command: rerunning the saved config with fewer epochs.
        let rerun = try ExperimentConfig.load(path: "\(run)/config.yaml", overrides: ["run.epochs=1"])
        XCTAssertThrowsError(try Trainer(config: rerun, quiet: true).train()) { error in
            let message = "\(error)"
            XCTAssertTrue(message.contains("already holds a run") && message.contains("--resume \(run)") && message.contains("--overwrite"), message)
        }
        XCTAssertEqual(try lines("\(run)/log.jsonl"), 2, "the refused run left the log alone")
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: "\(run)/checkpoints/latest/model.safetensors")), before)

        let trainer = try Trainer(config: rerun, quiet: true)
        _ = try trainer.train(overwrite: true)
        let aside = try XCTUnwrap(trainer.replacedRun)
        XCTAssertTrue(aside.hasPrefix("\(run).replaced-"), aside)
        XCTAssertEqual(try lines("\(aside)/log.jsonl"), 2, "the old run is kept whole")
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: "\(aside)/checkpoints/latest/model.safetensors")), before)
        XCTAssertTrue(FileManager.default.fileExists(atPath: "\(aside)/evaluation-val/summary.json"))
        XCTAssertFalse(FileManager.default.fileExists(atPath: "\(run)/evaluation-val"), "old evaluations move with the old run")
        XCTAssertEqual(try lines("\(run)/log.jsonl"), 1)
        XCTAssertTrue(trainer.warnings.contains { $0.contains(aside) }, "\(trainer.warnings)")
        // A second overwrite in the same second does not collide with the first.
        XCTAssertNotEqual(try RunFolder.moveAside(run, now: Date()), aside)
    }

    func testTheSavedConfigIsAbsoluteAndAResumeWorksFromAnotherDirectoryInACopiedFolder() throws {
        _ = try data()
        let original = FileManager.default.currentDirectoryPath
        defer { FileManager.default.changeCurrentDirectoryPath(original) }
        XCTAssertTrue(FileManager.default.changeCurrentDirectoryPath(dir))
        let run = "\(dir!)/runs/mine"
        _ = try Trainer(config: try config(dataset: "data-tubular", output: "runs/mine", epochs: 2), quiet: true).train(untilEpoch: 1)
        let text = try String(contentsOfFile: "\(run)/config.yaml", encoding: .utf8)
        let cwd = FileManager.default.currentDirectoryPath
        XCTAssertTrue(text.hasPrefix("# working directory: \(cwd) "), text)
        let saved = try ExperimentConfig.load(path: "\(run)/config.yaml")
        XCTAssertEqual(saved.data.dataset, "\(cwd)/data-tubular")
        XCTAssertEqual(saved.run.output, "\(cwd)/runs/mine")

        let copy = "\(dir!)/copy"
        try FileManager.default.copyItem(atPath: run, toPath: copy)
        XCTAssertTrue(FileManager.default.changeCurrentDirectoryPath("/"))
        let trainer = try Trainer(config: try Trainer.savedConfig(copy), quiet: true)
        XCTAssertEqual(trainer.runFolder, copy)
        _ = try trainer.train(resume: true)
        XCTAssertEqual(try lines("\(copy)/log.jsonl"), 2, "the copy resumed")
        XCTAssertEqual(try lines("\(run)/log.jsonl"), 1, "the original is untouched")
        XCTAssertEqual(trainer.experiment.config.data.splits, "\(copy)/splits.json", "the resume trains on the copy's saved split")
    }

    func testTheSplitIsSavedAndValidationUsesItAfterACaseIsAdded() throws {
        let data = try data()
        let run = "\(dir!)/run"
        let trainer = try Trainer(config: try config(dataset: data, output: run), quiet: true)
        _ = try trainer.train()
        let splits = try JSONDecoder().decode([Split].self, from: Data(contentsOf: URL(fileURLWithPath: "\(run)/splits.json")))
        XCTAssertEqual(splits.count, 5, "one split per fold, nnU-Net's splits_final.json layout")
        let val = trainer.experiment.valCases.map(\.id)
        XCTAssertFalse(val.isEmpty)
        XCTAssertEqual(splits[0].val, val)
        XCTAssertEqual(Set(splits[0].train + splits[0].val).count, 6)

        // A case added to imagesTr after training: it sorts last, so a recomputed hold-out would pick it.
        let first = try Dataset.open(data).training[0].id
        let fm = FileManager.default
        try fm.copyItem(atPath: "\(data)/imagesTr/\(first)_0000.png", toPath: "\(data)/imagesTr/zzz_added_0000.png")
        try fm.copyItem(atPath: "\(data)/labelsTr/\(first).png", toPath: "\(data)/labelsTr/zzz_added.png")
        let dataset = try Dataset.open(data)
        let state = try CheckpointStore.readState("\(run)/checkpoints/best")
        var warnings: [String] = []
        let cases = try Evaluation.cases(split: "val", dataset: dataset, state: state, run: run) { warnings.append($0) }
        XCTAssertEqual(cases.map(\.id), val)
        XCTAssertEqual(warnings.count, 1)
        XCTAssertTrue(warnings[0].contains("zzz_added") && warnings[0].contains("splits.json"), warnings[0])
        // Without the run folder the split is recomputed, and says so.
        warnings = []
        let recomputed = try Evaluation.cases(split: "val", dataset: dataset, state: state) { warnings.append($0) }
        XCTAssertEqual(recomputed.map(\.id), ["zzz_added"])
        XCTAssertTrue(warnings.first?.contains("recomputed") == true, "\(warnings)")

        // Resuming warns too, naming the added case.
        let resumed = try Trainer(config: try Trainer.savedConfig(run), quiet: true)
        _ = try resumed.train(resume: true)
        XCTAssertTrue(resumed.warnings.contains { $0.contains("zzz_added") }, "\(resumed.warnings)")
        XCTAssertEqual(resumed.experiment.valCases.map(\.id), val)
    }

    func testExtendingAFinishedRunTrainsOnAndWarnsHowTheLearningRateContinues() throws {
        let run = "\(dir!)/run"
        _ = try Trainer(config: try config(dataset: try data(), output: run, epochs: 2), quiet: true).train()
        // Fewer epochs than done: nothing trains, and no schedule warning for a schedule that does not run.
        let shorter = try Trainer(config: try Trainer.savedConfig(run, overrides: ["run.epochs=1"]), quiet: true)
        _ = try shorter.train(resume: true)
        XCTAssertEqual(shorter.warnings, [])
        XCTAssertEqual(try lines("\(run)/log.jsonl"), 2)
        let trainer = try Trainer(config: try Trainer.savedConfig(run, overrides: ["run.epochs=4"]), quiet: true)
        let summary = try trainer.train(resume: true)
        XCTAssertEqual(summary.epochs, 4)
        let records = try RunLog(path: "\(run)/log.jsonl").read()
        XCTAssertEqual(records.map(\.epoch), [1, 2, 3, 4])
        // poly over the new total (8 iterations): the last old step was 0.01 · (1 − 3/4)^0.9, the next 0.01 · (1 − 4/8)^0.9.
        let warning = try XCTUnwrap(trainer.warnings.first { $0.contains("schedule") }, "\(trainer.warnings)")
        XCTAssertTrue(warning.contains("from 4 to 8 iterations") && warning.contains("0.00287") && warning.contains("0.00536"), warning)
        XCTAssertEqual(records[2].learningRate, 0.01 * pow(1 - 5.0 / 8, 0.9), accuracy: 1e-12)
        XCTAssertEqual(records[1].learningRate, 0.01 * pow(1 - 3.0 / 4, 0.9), accuracy: 1e-12)
        XCTAssertEqual(trainer.warnings.count, 1, "\(trainer.warnings)")
    }

    func testLandmarksNoObjectiveUsesAndPatchesLargerThanTheImagesAreWarned() throws {
        let data = try data(.organLandmarks, count: 4)
        var c = try config(dataset: data, output: "\(dir!)/run")
        c.data.patchSize = [256, 128]
        let trainer = try Trainer(config: c, quiet: true)
        _ = try trainer.train(untilEpoch: 0)
        XCTAssertEqual(trainer.warnings.count, 2, "\(trainer.warnings)")
        XCTAssertTrue(trainer.warnings.contains { $0.hasPrefix("warning: the dataset has landmarks (") && $0.contains("objectives: cedice") },
                      "\(trainer.warnings)")
        XCTAssertTrue(trainer.warnings.contains { $0.contains("patch size [256, 128] is larger than the images ([128, 128]") },
                      "\(trainer.warnings)")
        XCTAssertTrue(trainer.warnings.allSatisfy { !$0.contains("\n") })
    }

    func testACheckpointOnADatasetWithOtherLabelsOrChannelsIsWarned() throws {
        var state = TrainingState(epoch: 1, iteration: 1, bestValue: nil, bestEpoch: nil, skippedSteps: 0, config: [:], contourVersion: "x",
                                  channelNames: ["CT"], labels: ["background": 0, "liver": 1])
        let same = DatasetDescription(channelNames: ["CT"], labels: ["background": 0, "liver": 1], numTraining: 1, fileEnding: ".png")
        XCTAssertEqual(RunWarnings.checkpointMismatch(state, dataset: same, root: "D"), [])
        let other = DatasetDescription(channelNames: ["MR"], labels: ["background": 0, "spleen": 1], numTraining: 1, fileEnding: ".png")
        XCTAssertEqual(RunWarnings.checkpointMismatch(state, dataset: other, root: "D"), [
            "warning: the checkpoint was trained with labels {background: 0, liver: 1}, D has {background: 0, spleen: 1}; "
                + "metrics compare label values, whatever their names",
            "warning: the checkpoint was trained on channels [CT], D has [MR]",
        ])
        state.labels = nil
        XCTAssertEqual(RunWarnings.checkpointMismatch(state, dataset: other, root: "D").count, 1)
    }
}
