import Foundation
import XCTest
import Torch
@testable import Objectives

/// |p − g|² averaged; simple enough to hold for any shape (other tests build every registered name).
private struct SquaredProbabilityError: Objective {
    let name: String
    let scale: Double

    init(options: ObjectiveOptions) throws {
        name = options.objective
        scale = try options.double("scale", default: 1)
    }

    func callAsFunction(logits: Tensor, target: LossTarget) throws -> Tensor {
        let d = try logits.softmax(dim: 1) - target.denseTarget(for: logits)
        return try (d * d).mean() * scale
    }
}

final class ObjectiveRegistrationTests: XCTestCase {
    static let registered: Void = {
        try! ObjectiveRegistry.register(name: "test-sqerr", summary: "squared probability error; scale") {
            try SquaredProbabilityError(options: $0)
        }
    }()

    override func setUp() { _ = Self.registered }

    func testRegisteredObjectiveIsMadeByNameAndUnderSCNP() throws {
        XCTAssertTrue(ObjectiveRegistry.names.contains("test-sqerr"))
        XCTAssertTrue(ObjectiveRegistry.entries.contains { $0.name == "test-sqerr" && $0.summary.hasPrefix("squared") })
        let logits = try tensor([2, -1, 0, 1, -2, 1, 0, 3], [1, 2, 2, 2])
        let target = try labels([0, 1, 1, 0], [1, 1, 2, 2])
        let plain = try ObjectiveRegistry.make("test-sqerr", json: #"{"scale": 2}"#)
        XCTAssertEqual(plain.name, "test-sqerr")
        let p = try logits.softmax(dim: 1).doubles(), g: [Double] = [1, 0, 0, 1, 0, 1, 1, 0]
        assertClose(try plain(logits: logits, target: target).item(), 2 * zip(p, g).map { ($0 - $1) * ($0 - $1) }.reduce(0, +) / 8)
        let scnp = try ObjectiveRegistry.make("scnp+test-sqerr", json: #"{"k": 3, "scale": 2}"#)
        XCTAssertEqual(scnp.name, "scnp+test-sqerr")
        XCTAssertTrue(try scnp(logits: logits, target: target).item().isFinite)
        // Options the objective does not read are still errors naming them.
        XCTAssertThrowsError(try ObjectiveRegistry.make("test-sqerr", json: #"{"scal": 2}"#)) {
            XCTAssertTrue("\($0)".contains("'scal'"), "\($0)")
        }
    }

    func testExistingAndMalformedNamesAreRefused() throws {
        XCTAssertThrowsError(try ObjectiveRegistry.register(name: "dice", summary: "") { try SquaredProbabilityError(options: $0) }) {
            XCTAssertTrue("\($0)".contains("'dice'") && "\($0)".contains("replace: true"), "\($0)")
        }
        for bad in ["", "a,b", "scnp+x", "two words"] {
            XCTAssertThrowsError(try ObjectiveRegistry.register(name: bad, summary: "") { try SquaredProbabilityError(options: $0) }, bad)
        }
        try ObjectiveRegistry.register(name: "test-replaced", summary: "first") { try SquaredProbabilityError(options: $0) }
        try ObjectiveRegistry.register(name: "test-replaced", summary: "second", replace: true) { try SquaredProbabilityError(options: $0) }
        XCTAssertEqual(ObjectiveRegistry.entries.filter { $0.name == "test-replaced" }.map(\.summary), ["second"])
        // Built-ins keep their place ahead of registered names.
        XCTAssertEqual(ObjectiveRegistry.names.first, "ce")
    }

    func testConcurrentRegistrationAndLookup() throws {
        DispatchQueue.concurrentPerform(iterations: 32) { i in
            try? ObjectiveRegistry.register(name: "test-concurrent-\(i)", summary: "") { try SquaredProbabilityError(options: $0) }
            _ = try? ObjectiveRegistry.make("cedice")
        }
        let names = Set(ObjectiveRegistry.names)
        XCTAssertTrue((0..<32).allSatisfy { names.contains("test-concurrent-\($0)") })
    }
}
