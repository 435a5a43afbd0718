import Foundation
import XCTest
import Imaging
import Metrics
import Torch
@testable import Training

final class EvaluationTests: XCTestCase {
    var dir: String!

    override func setUpWithError() throws {
        dir = NSTemporaryDirectory() + "contour-evaluation-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: dir) }

    /// Ten tiny tubular cases (two held out for validation) and a configuration that trains in seconds.
    func tinyConfig(_ overrides: [String] = []) throws -> ExperimentConfig {
        let data = "\(dir!)/data"
        if !FileManager.default.fileExists(atPath: "\(data)/dataset.json") {
            try DemoData.write(kind: .tubular, to: data, trainCount: 10, testCount: 0, seed: 4)
        }
        return try ExperimentConfig.fromOverrides([
            "data.dataset=\(data)", "data.patchSize=[32, 32]", "data.batchSize=2", "data.workers=1", "data.preset=none",
            "model.name=unet2d", "model.options={stages: 2, baseWidth: 4}", "objectives=cedice",
            "optimizer.name=adam", "optimizer.learningRate=0.01", "run.epochs=1", "run.iterationsPerEpoch=2",
            "run.seed=7", "run.threads=1", "run.output=\(dir!)/run",
        ] + overrides)
    }

    /// Bitwise equality, with NaN equal to NaN (rows hold NaN for undefined metrics).
    func assertSameRows(_ a: [CaseMetricsRow], _ b: [CaseMetricsRow], file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.map(\.caseName), b.map(\.caseName), file: file, line: line)
        XCTAssertEqual(a.map(\.label), b.map(\.label), file: file, line: line)
        for (x, y) in zip(a, b) {
            for c in CaseMetricsRow.columns {
                XCTAssertEqual(x[keyPath: c.value].bitPattern, y[keyPath: c.value].bitPattern,
                               "\(x.caseName) label \(x.label) \(c.name): \(x[keyPath: c.value]) vs \(y[keyPath: c.value])", file: file, line: line)
            }
        }
    }

    func testValidationAndEvaluateGiveIdenticalRows() throws {
        let trainer = try Trainer(config: try tinyConfig(), quiet: true)
        _ = try trainer.train()
        let (means, validated) = try trainer.validate()
        XCTAssertEqual(Set(validated.map(\.caseName)), Set(trainer.experiment.valCases.map(\.id)))
        XCTAssertFalse(validated.isEmpty)

        // What `contour evaluate --split val` does, from the checkpoint on disk.
        let (predictor, state) = try Predictor.load(checkpoint: "\(dir!)/run/checkpoints/latest", device: trainer.experiment.device)
        let dataset = try Dataset.open("\(dir!)/data")
        let cases = try Evaluation.cases(split: "val", dataset: dataset, state: state)
        XCTAssertEqual(cases, Evaluation.cases(of: trainer.experiment.valCases))
        let evaluated = try Evaluation.evaluate(predictor, cases: cases, labels: dataset.description.foregroundLabels)
        assertSameRows(validated, evaluated)
        XCTAssertEqual(Evaluation.means(evaluated), means)
        // Topology is on by default in both paths.
        XCTAssertNotNil(means["betti0_error"])
        XCTAssertNotNil(means["cldice"])
    }

    func testPolicySwitchesTopologyColumns() throws {
        // An untrained model is enough: the switch concerns scoring, not prediction.
        let experiment = try Experiment(config: try tinyConfig())
        let cases = Evaluation.cases(of: experiment.valCases)
        let labels = experiment.dataset.description.foregroundLabels
        let on = try Evaluation.evaluate(experiment.predictor, cases: cases, labels: labels, policy: EvaluationPolicy(topology: true))
        let off = try Evaluation.evaluate(experiment.predictor, cases: cases, labels: labels, policy: EvaluationPolicy(topology: false))
        XCTAssertFalse(on.isEmpty)
        for row in on {
            XCTAssertFalse(row.betti0Error.isNaN, row.caseName)
            XCTAssertFalse(row.betti1Error.isNaN, row.caseName)
            XCTAssertTrue(row.betti2Error.isNaN, "β2 is undefined in 2D")
        }
        for row in off {
            XCTAssertTrue(row.betti0Error.isNaN && row.betti1Error.isNaN && row.betti2Error.isNaN && row.cldice.isNaN, row.caseName)
        }
        let topology: Set = ["betti0_error", "betti1_error", "betti2_error", "cldice"]
        XCTAssertTrue(topology.isDisjoint(with: Evaluation.means(off).keys))
        XCTAssertTrue(Evaluation.means(on).keys.contains("betti0_error"))
        // Everything else is the same either way.
        var stripped = on
        for i in stripped.indices {
            stripped[i].betti0Error = .nan
            stripped[i].betti1Error = .nan
            stripped[i].cldice = .nan
        }
        assertSameRows(stripped, off)
    }

    func testANaNBestMetricNeverBecomesBest() throws {
        // β2 is undefined in 2D, so every validation value is NaN: no best checkpoint, and no crash.
        let summary = try Trainer(config: try tinyConfig(["run.bestMetric=betti2_error"]), quiet: true).train()
        XCTAssertNil(summary.bestEpoch)
        XCTAssertNil(summary.bestValue)
        XCTAssertFalse(FileManager.default.fileExists(atPath: "\(dir!)/run/checkpoints/best/state.json"))
        XCTAssertTrue(FileManager.default.fileExists(atPath: "\(dir!)/run/checkpoints/latest/state.json"))
    }

    func testBestMetricAcceptsEveryCatalogName() throws {
        for name in MetricCatalog.names {
            XCTAssertEqual(try ExperimentConfig.fromOverrides(["data.dataset=d", "run.bestMetric=\(name)"]).run.bestMetric, name)
        }
        XCTAssertThrowsError(try ExperimentConfig.fromOverrides(["data.dataset=d", "run.bestMetric=sensitivity"])) { error in
            XCTAssertTrue("\(error)".contains("bestMetric") && "\(error)".contains("cldice"), "\(error)")
        }
    }
}
