import Foundation
import XCTest
@testable import NeuralNet
import Torch

final class OptimizerRegistryTests: XCTestCase {
    func groups() throws -> [ParameterGroup] {
        [ParameterGroup([try Tensor([0.5, -1.0, 2.0], shape: [3]).requiringGrad()], learningRate: 0.1, weightDecay: 0.01)]
    }

    /// One step on Σw² from the same start; returns the weights.
    func stepped(_ opt: any Optimizer) throws -> [Double] {
        let w = opt.groups[0].parameters[0]
        try opt.zeroGrad()
        try (w * w).sum().backward()
        try opt.step()
        return try w.doubles()
    }

    func testBuiltInsMatchTheClasses() throws {
        XCTAssertEqual(Array(OptimizerRegistry.names.prefix(3)), ["sgd", "adam", "adamw"])
        let sgd = try OptimizerRegistry.make("sgd", groups: groups(), options: Options(["momentum": .number(0.9), "nesterov": .bool(true)], for: "sgd"))
        XCTAssertEqual(try stepped(sgd), try stepped(SGD(groups(), momentum: 0.9, nesterov: true)))
        let adamw = try OptimizerRegistry.make("adamw", groups: groups(),
                                               options: Options(json: #"{"betas": [0.8, 0.99], "eps": 1e-6, "amsgrad": true}"#, for: "adamw"))
        XCTAssertTrue(adamw is AdamW)
        XCTAssertEqual(try stepped(adamw), try stepped(AdamW(groups(), betas: (0.8, 0.99), eps: 1e-6, amsgrad: true)))
        let adam = try OptimizerRegistry.make("adam", groups: groups(), options: Options(["weightDecay": .number(0.5)], for: "adam"))
        XCTAssertFalse(adam is AdamW)
        XCTAssertEqual(adam.groups[0].weightDecay, 0.5)
    }

    func testUnknownNameListsTheKnownOnes() throws {
        XCTAssertThrowsError(try OptimizerRegistry.make("lamb", groups: groups())) {
            let m = "\($0)"
            XCTAssertTrue(m.contains("'lamb'") && m.contains("sgd, adam, adamw"), m)
        }
    }

    func testUnknownAndInvalidOptionsNameThemselves() throws {
        XCTAssertThrowsError(try OptimizerRegistry.make("adam", groups: groups(), options: Options(["momentum": .number(0.9)], for: "adam"))) {
            XCTAssertTrue("\($0)".contains("'momentum'"), "\($0)")
        }
        XCTAssertThrowsError(try OptimizerRegistry.make("adam", groups: groups(), options: Options(json: #"{"betas": [0.9]}"#, for: "adam"))) {
            XCTAssertTrue("\($0)".contains("'betas'"), "\($0)")
        }
    }

    func testRegisteredOptimizersAreMadeByName() throws {
        try OptimizerRegistry.register(name: "test-halfsgd", summary: "SGD at half the rate") { groups, o in
            let scale = try o.double("scale", default: 0.5)
            return try SGD(groups.map { var g = $0; g.learningRate *= scale; return g })
        }
        XCTAssertTrue(OptimizerRegistry.names.contains("test-halfsgd"))
        let opt = try OptimizerRegistry.make("test-halfsgd", groups: groups())
        XCTAssertEqual(opt.groups[0].learningRate, 0.05, accuracy: 1e-12)
        // An existing name is refused unless replaced on purpose.
        XCTAssertThrowsError(try OptimizerRegistry.register(name: "sgd", summary: "") { g, _ in try SGD(g) }) {
            XCTAssertTrue("\($0)".contains("'sgd'") && "\($0)".contains("replace"), "\($0)")
        }
        try OptimizerRegistry.register(name: "test-halfsgd", summary: "replaced", replace: true) { g, _ in try SGD(g) }
        XCTAssertEqual(OptimizerRegistry.entries.filter { $0.name == "test-halfsgd" }.map(\.summary), ["replaced"])
        XCTAssertThrowsError(try OptimizerRegistry.register(name: "two words", summary: "") { g, _ in try SGD(g) })
    }

    func testConcurrentRegistrationKeepsEveryEntry() throws {
        DispatchQueue.concurrentPerform(iterations: 64) { i in
            try? OptimizerRegistry.register(name: "test-concurrent-\(i)", summary: "") { g, _ in try SGD(g) }
            _ = OptimizerRegistry.names
        }
        let names = Set(OptimizerRegistry.names)
        XCTAssertTrue((0..<64).allSatisfy { names.contains("test-concurrent-\($0)") })
    }
}
