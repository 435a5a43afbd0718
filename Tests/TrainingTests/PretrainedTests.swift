import Foundation
import Imaging
import NeuralNet
import Torch
import XCTest
@testable import Training

/// `model.pretrained` (`--pretrained`): exact-key loading with a prefix, reported like PyTorch's
/// `load_state_dict(strict=False)`, shape mismatches refused.
final class PretrainedTests: XCTestCase {
    var dir: String!

    override func setUpWithError() throws {
        dir = NSTemporaryDirectory() + "contour-pretrained-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try DemoData.write(kind: .tubular, to: "\(dir!)/data", trainCount: 4, testCount: 0, seed: 3)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: dir) }

    func config(_ pretrained: String, overrides: [String] = []) throws -> ExperimentConfig {
        try ExperimentConfig.load(yaml: """
        data: {dataset: \(dir!)/data, patchSize: [32, 32], batchSize: 2, workers: 1, preset: none}
        model: {name: unet2d, options: {stages: 3, baseWidth: 4}, pretrained: \(pretrained)}
        run: {epochs: 1, iterationsPerEpoch: 1, seed: 5, threads: 1, output: \(dir!)/run, tensorboard: false}
        """, name: "run.yaml", overrides: overrides)
    }

    func testConfigFormsAndSavedPaths() throws {
        XCTAssertEqual(try config("w.pth").model.pretrained, .init(file: "w.pth"))
        XCTAssertEqual(try config("{file: w.pth, prefix: encoder.}").model.pretrained, .init(file: "w.pth", prefix: "encoder."))
        XCTAssertEqual(try config("w.pth", overrides: ["model.pretrained.prefix=\"encoder.\""]).model.pretrained,
                       .init(file: "w.pth", prefix: "encoder."))
        XCTAssertThrowsError(try config("{prefix: a.}")) { XCTAssertTrue("\($0)".contains("model.pretrained.file is required"), "\($0)") }
        XCTAssertThrowsError(try config("{file: w.pth, prefx: a.}")) { XCTAssertTrue("\($0)".contains("prefx"), "\($0)") }
        let saved = try ExperimentConfig.load(yaml: try RunFolder.savedConfigText(try config("w.pth"), directory: dir), name: "saved")
        XCTAssertEqual(saved.model.pretrained, .init(file: "\(dir!)/w.pth"))
        XCTAssertThrowsError(try Trainer(config: try config("\(dir!)/nothing.pth"), quiet: true)) {
            XCTAssertTrue("\($0)".contains("model.pretrained: cannot read \(dir!)/nothing.pth"), "\($0)")
        }
    }

    func testPrefixLoadWarnsAboutMissingAndUnexpectedKeys() throws {
        // A file holding the encoder's weights without the prefix, one key short, plus a classifier.
        try Torch.manualSeed(9)
        let reference = try Trainer(config: try ExperimentConfig.load(yaml: """
        data: {dataset: \(dir!)/data, patchSize: [32, 32], batchSize: 2, workers: 1, preset: none}
        model: {name: unet2d, options: {stages: 3, baseWidth: 4}}
        run: {epochs: 1, iterationsPerEpoch: 1, seed: 77, threads: 1, output: \(dir!)/ref, tensorboard: false}
        """, name: "ref.yaml"), quiet: true)
        let all = reference.experiment.model.stateDict()
        let prefix = String(all[0].name.prefix(while: { $0 != "." })) + "."
        let encoder = all.filter { $0.name.hasPrefix(prefix) }
        let dropped = encoder.last!.name
        var file = encoder.dropLast().map { (name: String($0.name.dropFirst(prefix.count)), tensor: $0.tensor) }
        file.append((name: "fc.weight", tensor: try Tensor.ones([2, 4])))
        try Safetensors.save(file, to: "\(dir!)/enc.safetensors")

        let trainer = try Trainer(config: try config("{file: \(dir!)/enc.safetensors, prefix: \(prefix)}"), quiet: true)
        let model = trainer.experiment.model
        try trainer.loadPretrained(trainer.sessions[0], trainer.config.model.pretrained!)
        let now = Dictionary(uniqueKeysWithValues: model.stateDict().map { ($0.name, $0.tensor) })
        for (name, t) in encoder.dropLast() { XCTAssertEqual(try now[name]!.floats(), try t.floats(), name) }
        XCTAssertEqual(trainer.warnings.count, 2, "\(trainer.warnings)")
        XCTAssertTrue(trainer.warnings[0].contains("1 model keys not in the file (left as initialised): \(dropped)"), trainer.warnings[0])
        XCTAssertTrue(trainer.warnings[1].contains("1 file keys the model lacks (ignored): fc.weight"), trainer.warnings[1])

        // Wired into training; a shape mismatch stops it with the key and both shapes.
        let run = try Trainer(config: try config("{file: \(dir!)/enc.safetensors, prefix: \(prefix)}",
                                                 overrides: ["run.output=\(dir!)/run3"]), quiet: true)
        _ = try run.train()
        XCTAssertEqual(run.warnings.filter { $0.contains("model.pretrained") }.count, 2, "\(run.warnings)")
        // A file none of whose keys fit (here: the wrong prefix) is an error, not a silent no-op.
        let wrong = try Trainer(config: try config("{file: \(dir!)/enc.safetensors, prefix: nothing.}"), quiet: true)
        XCTAssertThrowsError(try wrong.loadPretrained(wrong.sessions[0], wrong.config.model.pretrained!)) { e in
            XCTAssertTrue("\(e)".contains("no tensor matches a key of model 'unet2d' under prefix 'nothing.'"), "\(e)")
        }
        var bad = file
        bad[0].tensor = try Tensor.zeros([1] + bad[0].tensor.shape)
        try Safetensors.save(bad, to: "\(dir!)/bad.safetensors")
        XCTAssertThrowsError(try Trainer(config: try config("{file: \(dir!)/bad.safetensors, prefix: \(prefix)}",
                                                            overrides: ["run.output=\(dir!)/run2"]), quiet: true).train()) { e in
            XCTAssertTrue("\(e)".contains("'\(bad[0].name)' (model key '\(prefix)\(bad[0].name)') has shape"), "\(e)")
        }
    }
}
