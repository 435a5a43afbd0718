import Foundation
import XCTest
import Imaging
import NeuralNet
import Yams
@testable import Training

/// Configuration typing, sources of mistakes, `--set` paths and saved configs that read back
/// the same in Yams and PyYAML.
final class ConfigTests: XCTestCase {
    var dir: String!

    override func setUpWithError() throws {
        dir = NSTemporaryDirectory() + "contour-config-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: dir) }

    func message(_ body: () throws -> Any) -> String {
        do { _ = try body(); return "no error" } catch { return "\(error)" }
    }

    // MARK: Writing

    func testFloatsAreWrittenWithADotAndIntegersAsIntegers() throws {
        XCTAssertEqual(ConfigYAML.float(1e-2), "0.01")
        XCTAssertEqual(ConfigYAML.float(3e-5), "3.0e-05")
        XCTAssertEqual(ConfigYAML.float(-2.5e-7), "-2.5e-07")
        XCTAssertEqual(ConfigYAML.float(1e20), "1.0e+20")
        XCTAssertEqual(ConfigYAML.float(12), "12.0")
        XCTAssertEqual(ConfigYAML.float(0.1 + 0.2), "0.30000000000000004")
        XCTAssertEqual(ConfigYAML.float(-.infinity), "-.inf")

        var c = ExperimentConfig()
        c.data.dataset = "data"
        c.optimizer.learningRate = 1e-2
        c.optimizer.weightDecay = 3e-5
        c.objectives = [.init(name: "cedice", weight: 2, options: ["smoothNumerator": .number(1e-5)])]
        let text = try c.yaml()
        for line in ["learningRate: 0.01", "weightDecay: 3.0e-05", "gradientClip: 12.0", "weight: 2.0",
                     "batchSize: 2", "smoothNumerator: 1.0e-05", "epochs: 10"] {
            XCTAssertTrue(text.contains(line), "config.yaml lacks '\(line)':\n\(text)")
        }
        // No YAML 1.1 reader may see a float without a dot (PyYAML reads `1e-05` as a string).
        XCTAssertNil(text.range(of: #":\s+-?[0-9]+[eE]"#, options: .regularExpression), text)
        XCTAssertEqual(try ExperimentConfig.load(yaml: text, name: "saved"), c)
    }

    func testTheSavedConfigOfARealRunIsResolvedAndReadsBackEqual() throws {
        let data = "\(dir!)/data"
        try DemoData.write(kind: .tubular, to: data, trainCount: 4, testCount: 0, seed: 3)
        let config = try ExperimentConfig.load(yaml: """
        data: {dataset: \(data), patchSize: [32, 32], batchSize: 2, workers: 1, preset: none}
        model: {name: unet2d, options: {stages: 3, baseWidth: 4}}
        objectives: [{name: cedice, weight: 1.0}, {name: ce, weight: 0.5}]
        optimizer: {learningRate: 1e-2, weightDecay: 3e-5}
        run: {epochs: 1, iterationsPerEpoch: 1, seed: 5, threads: 1, output: \(dir!)/run}
        """, name: "run.yaml")
        let trainer = try Trainer(config: config, quiet: true)
        _ = try trainer.train()
        let text = try String(contentsOfFile: "\(dir!)/run/config.yaml", encoding: .utf8)
        let saved = try ExperimentConfig.load(path: "\(dir!)/run/config.yaml")

        // What ran is written out: the model's and objectives' defaults too.
        XCTAssertEqual(saved.model.options["stages"], .number(3))
        XCTAssertEqual(saved.model.options["baseWidth"], .number(4))
        XCTAssertEqual(saved.model.options["norm"], .string("instance"))
        XCTAssertEqual(saved.model.options["deepSupervision"], .bool(false))
        XCTAssertEqual(saved.model.options["convsPerStage"], .number(2))
        XCTAssertNil(saved.model.options["maxWidth"], "an option left unset stays unset")
        XCTAssertEqual(saved.objectives.map(\.weight), [1, 0.5])
        XCTAssertFalse(saved.objectives[0].options.isEmpty, text)
        XCTAssertNotNil(saved.objectives[1].options["reduction"], text)
        XCTAssertTrue(text.contains("learningRate: 0.01") && text.contains("weightDecay: 3.0e-05"), text)

        // Read back, it is the resolved configuration; resolving it again changes nothing.
        var expected = config
        expected.model.options = saved.model.options
        for i in expected.objectives.indices { expected.objectives[i].options = saved.objectives[i].options }
        XCTAssertEqual(saved, expected)
        let again = try Trainer(config: saved, quiet: true)
        XCTAssertEqual(try saved.resolved(by: again.sessions.map { ($0.name, $0.experiment) }), saved)
    }

    // MARK: PyYAML agreement (fixtures from scripts/fixtures/make_config_yaml_fixtures.py)

    static let fixtureDir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/config-yaml").path

    /// Configurations whose saved YAML PyYAML has read (the fixture's `.yaml` is this text).
    static func fixtureConfigs() throws -> [(name: String, config: ExperimentConfig)] {
        var plain = ExperimentConfig()
        plain.data.dataset = "Dataset001_Demo"
        var many = try ExperimentConfig.load(yaml: """
        data: {dataset: "data/on", patchSize: [64, 48], foregroundOversampling: 0.5, heatmap: {sigma: 1.5e-1, scale: 100},
               preprocessed: "data/on-2d", cache: none, parity: true}
        model: {name: unet2d, options: {stages: 4, baseWidth: 8, norm: batch, deepSupervision: true, convsPerStage: 2}}
        objectives: [{name: cedice, weight: 1, options: {smoothNumerator: 1e-5}}, {name: cldice, weight: 0.3333333333333333}]
        optimizer: {name: adam, learningRate: 3e-4, weightDecay: 1e-20, gradientClip: 0, schedule: plateau,
                    groups: [{keys: ["encoder.*"], learningRate: 1e-4}], plateau: {factor: 0.5, threshold: 1e-3},
                    options: {betas: [0.9, 0.999], eps: 1e-8}}
        run: {epochs: 3, seed: 42, mixedPrecision: "off", device: "yes", output: "runs/1e5"}
        stages: [{name: warm, optimizer: {learningRate: 1}}, {name: main, run: {epochs: 2}}]
        """, name: "many")
        many.run.earlyStopping = .init(metric: "hd95", patience: 3)
        return [("plain", plain), ("many", many)]
    }

    /// `CONTOUR_WRITE_CONFIG_FIXTURES=1` rewrites the `.yaml` inputs; then run the generator.
    func testPyYAMLReadsTheSavedConfigAsTheSameValues() throws {
        for (name, config) in try Self.fixtureConfigs() {
            let text = try config.yaml()
            let yamlPath = "\(Self.fixtureDir)/\(name).yaml"
            if ProcessInfo.processInfo.environment["CONTOUR_WRITE_CONFIG_FIXTURES"] == "1" {
                try FileManager.default.createDirectory(atPath: Self.fixtureDir, withIntermediateDirectories: true)
                try text.write(toFile: yamlPath, atomically: true, encoding: .utf8)
            }
            XCTAssertEqual(try String(contentsOfFile: yamlPath, encoding: .utf8), text,
                           "\(name).yaml is stale: rerun with CONTOUR_WRITE_CONFIG_FIXTURES=1 and the generator")
            let json = try Data(contentsOf: URL(fileURLWithPath: "\(Self.fixtureDir)/\(name).pyyaml.json"))
            let python = try JSONSerialization.jsonObject(with: json) as! [String: [Any]]
            let yams = Self.typedLeaves(try Yams.load(yaml: text) as Any, at: "")
            XCTAssertEqual(Set(python.keys), Set(yams.keys), name)
            for (path, (type, value)) in yams {
                guard let p = python[path] else { continue }
                XCTAssertEqual(p[0] as? String, type, "\(name): \(path) is \(type) in Yams, \(p[0]) in PyYAML")
                if type == "float" {
                    XCTAssertEqual(Double(p[1] as? String ?? ""), Double(value), "\(name): \(path)")
                } else {
                    XCTAssertEqual(p[1] as? String, value, "\(name): \(path)")
                }
            }
            XCTAssertEqual(try ExperimentConfig.load(yaml: text, name: name), config, name)
        }
    }

    /// path → (Python type name, value as text) for every scalar, as the generator writes them.
    static func typedLeaves(_ any: Any, at path: String) -> [String: (String, String)] {
        switch any {
        case let o as [String: Any]:
            return o.reduce(into: [:]) { out, kv in
                out.merge(typedLeaves(kv.value, at: path.isEmpty ? kv.key : "\(path).\(kv.key)")) { a, _ in a }
            }
        case let a as [Any]:
            return a.enumerated().reduce(into: [:]) { out, e in out.merge(typedLeaves(e.element, at: "\(path)[\(e.offset)]")) { a, _ in a } }
        case let b as Bool: return [path: ("bool", b ? "true" : "false")]
        case let i as Int: return [path: ("int", "\(i)")]
        case let d as Double: return [path: ("float", "\(d)")]
        case let s as String: return [path: ("str", s)]
        default: return [path: ("NoneType", "null")]
        }
    }

    // MARK: Type and range errors

    func testTypeErrorsAndRangeErrorsAreToldApartAndNamed() {
        func load(_ yaml: String) -> String { message { try ExperimentConfig.load(yaml: "data: {dataset: d}\n" + yaml, name: "run.yaml") } }
        XCTAssertEqual(load("data: {dataset: d, batchSize: two}"),
                       "run.yaml:2: data.batchSize must be an integer ≥ 1, got the string \"two\"")
        XCTAssertEqual(load("data: {dataset: d, batchSize: 0}"), "run.yaml:2: data.batchSize must be ≥ 1, got 0")
        XCTAssertEqual(load("data: {dataset: d, batchSize: 1.5}"), "run.yaml:2: data.batchSize must be an integer ≥ 1, got 1.5")
        XCTAssertEqual(load("optimizer:\n  learningRate: abc"),
                       "run.yaml:3: optimizer.learningRate must be a number > 0, got the string \"abc\"")
        XCTAssertEqual(load("optimizer:\n  momentum: 1"), "run.yaml:3: optimizer.momentum must be in [0, 1), got 1")
        XCTAssertEqual(load("optimizer: {nesterov: 3}"), "run.yaml:2: optimizer.nesterov must be true or false, got 3")
        XCTAssertEqual(load("run: {mixedPrecision: fp8}"), "run.yaml:2: run.mixedPrecision must be one of auto, off, bf16, got the string \"fp8\"")
        XCTAssertEqual(load("data: {dataset: d, patchSize: [32, x]}"),
                       "run.yaml:2: data.patchSize must be a list of positive sizes, but element 1 is the string \"x\", not an integer")
        XCTAssertEqual(load("objectives:\n  - cedice\n  - {name: ce, weight: -1}"), "run.yaml:4: objectives[1].weight must be ≥ 0, got -1")
        XCTAssertEqual(load("run:\n  epochs: 2\n  epoch: 3"), "run.yaml:4: unknown key 'epoch' in run; known: bestMetric, device, "
                       + "earlyStopping, epochs, iterationsPerEpoch, maxNonFinite, mixedPrecision, output, overlapAllReduce, seed, tensorboard, threads, validationInterval")
        XCTAssertEqual(load("optimizer: {groups: [{keys: a, learningRate: fast}]}"),
                       "run.yaml:2: optimizer.groups[0].learningRate must be a number > 0, got the string \"fast\"")
    }

    // MARK: --set

    func testSetAddressesListElementsByIndex() throws {
        let file = """
        data: {dataset: d}
        objectives: [{name: cedice}, {name: cldice, weight: 0.5}]
        optimizer: {groups: [{keys: "encoder.*", learningRate: 0.001}]}
        stages: [{name: a, optimizer: {learningRate: 0.1}}, {name: b, optimizer: {learningRate: 0.01}}]
        """
        let c = try ExperimentConfig.load(yaml: file, name: "run.yaml", overrides: [
            "objectives[0].weight=2", "objectives.1.weight=3", "optimizer.groups[0].learningRate=1e-4",
            "stages[1].optimizer.learningRate=1e-4", "objectives[1].options.iterations=5",
        ])
        XCTAssertEqual(c.objectives.map(\.weight), [2, 3])
        XCTAssertEqual(c.objectives.map(\.name), ["cedice", "cldice"])
        XCTAssertEqual(c.objectives[1].options["iterations"], .number(5))
        XCTAssertEqual(c.optimizer.groups[0].learningRate, 1e-4)
        XCTAssertEqual(c.stages[1].overrides["optimizer"], .object(["learningRate": .number(1e-4)]))
        XCTAssertEqual(try c.stageConfigs().map(\.config.optimizer.learningRate), [0.1, 1e-4])

        // Names written as shorthand, or not written at all (the default cedice), are indexable too.
        let short = try ExperimentConfig.load(yaml: "data: {dataset: d}\nobjectives: ce,dice", name: "run.yaml",
                                              overrides: ["objectives[1].weight=0.25"])
        XCTAssertEqual(short.objectives, [.init(name: "ce"), .init(name: "dice", weight: 0.25)])
        let none = try ExperimentConfig.fromOverrides(["data.dataset=d", "objectives[0].weight=2"])
        XCTAssertEqual(none.objectives, [.init(name: "cedice", weight: 2)])
        let balancer = try ExperimentConfig.load(yaml: "data: {dataset: d}\nbalancer: pcgrad", name: "run.yaml",
                                                 overrides: ["balancer.options.seed=3"])
        XCTAssertEqual(balancer.balancer, .init(name: "pcgrad", options: ["seed": .number(3)]))
    }

    func testSetMistakesNameTheSetAndFileMistakesTheLine() {
        func load(_ overrides: [String]) -> String {
            message { try ExperimentConfig.load(yaml: "data: {dataset: d}\nobjectives: [cedice]\nrun:\n  epochs: 0\n", name: "run.yaml", overrides: overrides) }
        }
        XCTAssertEqual(load(["objectives[3].weight=2"]),
                       "--set objectives[3].weight=2: objectives has 1 element (indices 0 to 0), so there is no element 3")
        XCTAssertEqual(load(["data.batchSize[0]=2"]),
                       "--set data.batchSize[0]=2: data.batchSize is not set, so it has no element 0")
        XCTAssertEqual(load(["run.epochs.x=2"]), "--set run.epochs.x=2: run.epochs is a number, not a mapping, so it has no key 'x'")
        XCTAssertEqual(load(["objectives[0].weight=two", "run.epochs=1"]),
                       "--set objectives[0].weight=two: objectives[0].weight must be a number ≥ 0, got the string \"two\"")
        XCTAssertEqual(load(["optimizer.learningRate=abc", "run.epochs=1"]),
                       "--set optimizer.learningRate=abc: optimizer.learningRate must be a number > 0, got the string \"abc\"")
        XCTAssertEqual(load(["objectives[x=1"]),
                       "--set objectives[x=1: 'objectives[x' is not a key path (expected e.g. optimizer.learningRate or objectives[0].weight)")
        // The file's own mistake keeps its line, even with unrelated overrides.
        XCTAssertEqual(load(["data.batchSize=4"]), "run.yaml:4: run.epochs must be ≥ 1, got 0")
        XCTAssertEqual(message { try ExperimentConfig.fromOverrides(["data.dataset=d", "data.batchSize=0"]) },
                       "--set data.batchSize=0: data.batchSize must be ≥ 1, got 0")
    }

    /// `hadwiger` stands for the primary loss and the priors: expanded when the configuration is
    /// read (weight and head copied to each), addressable by `--set` before expansion, and saved expanded.
    func testHadwigerGroupExpandsInConfigurations() throws {
        let file = """
        data: {dataset: d}
        objectives: [{name: hadwiger, weight: 2, options: {primary: ce, deltas: [8], priors: [euler, area]}}]
        balancer: caob
        """
        let c = try ExperimentConfig.load(yaml: file, name: "run.yaml")
        XCTAssertEqual(c.objectives.map(\.name), ["ce", "hadwiger-euler", "hadwiger-area"])
        XCTAssertEqual(c.objectives.map(\.weight), [2, 2, 2])
        XCTAssertEqual(c.objectives[1].options, ["deltas": .array([.number(8)]), "eps": .number(1e-6)])
        let ablation = try ExperimentConfig.load(yaml: file, name: "run.yaml", overrides: ["objectives[0].options.priors=[perimeter]"])
        XCTAssertEqual(ablation.objectives.map(\.name), ["ce", "hadwiger-perimeter"])
        let short = try ExperimentConfig.load(yaml: "data: {dataset: d}\nobjectives: hadwiger", name: "run.yaml")
        XCTAssertEqual(short.objectives.map(\.name), ["cedice", "hadwiger-area", "hadwiger-perimeter", "hadwiger-euler"])
        // The saved form lists the four objectives and reads back the same.
        XCTAssertEqual(try ExperimentConfig.load(yaml: short.yaml(), name: "saved.yaml").objectives, short.objectives)
        let bad = message { try ExperimentConfig.load(yaml: "data: {dataset: d}\nobjectives: [{name: hadwiger, options: {prior: area}}]", name: "run.yaml") }
        XCTAssertTrue(bad.hasPrefix("run.yaml:") && bad.contains("unknown key 'prior' in objectives[0].options"), bad)
    }

    /// A byte-order mark (Windows editors write one; reading a file drops it, text from elsewhere may
    /// keep it) is not part of the configuration: with it, Yams shifted the first line one column
    /// right and rejected the next top-level key.
    func testAByteOrderMarkIsIgnored() throws {
        let file = "data: {dataset: d, batchSize: 3}\nrun:\n  epochs: 7\n"
        let plain = try ExperimentConfig.load(yaml: file, name: "run.yaml")
        let marked = try ExperimentConfig.load(yaml: "\u{FEFF}" + file, name: "run.yaml")
        XCTAssertEqual(marked.data.batchSize, 3)
        XCTAssertEqual(marked.run.epochs, 7)
        XCTAssertEqual(try marked.yaml(), try plain.yaml())
        XCTAssertEqual(message { try ExperimentConfig.load(yaml: "\u{FEFF}data: {dataset: d}\nrun:\n  epochs: 0\n", name: "run.yaml") },
                       "run.yaml:3: run.epochs must be ≥ 1, got 0")
        // The bounds check reads the text as Yams does, BOM included: there, this second line is
        // a mapping used as a key of the root mapping (a crash in Yams), not a syntax error.
        XCTAssertThrowsError(try YAMLBounds.check("\u{FEFF}a: 4\n ? b: c\n", name: "x.yaml")) { error in
            XCTAssertEqual("\(error)", "x.yaml:2: a mapping key must be a plain value, not a list, mapping or alias")
        }
    }
}
