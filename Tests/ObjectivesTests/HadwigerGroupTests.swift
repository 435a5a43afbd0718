import Foundation
import XCTest
import Torch
@testable import Objectives

/// The `hadwiger` group: what it expands to, its options and errors, and that its members compute
/// the PyTorch reference values (scripts/fixtures/make_hadwiger_torch_fixtures.py, case "defaults").
final class HadwigerGroupTests: XCTestCase {
    func testDefaultExpansionIsThePrimaryThenTheThreePriors() throws {
        let members = try ObjectiveRegistry.expand("hadwiger")
        let scales = OptionValue.array([8, 12, 16].map { .number($0) })
        XCTAssertEqual(members, [
            .init(name: "cedice"),
            .init(name: "hadwiger-area", options: ["deltas": scales]),
            .init(name: "hadwiger-perimeter", options: ["deltas": scales, "tau": .number(0.5), "sigma": .number(1), "eps": .number(1e-6)]),
            .init(name: "hadwiger-euler", options: ["deltas": scales, "eps": .number(1e-6)]),
        ])
        // Anything that is not a group is itself.
        XCTAssertEqual(try ObjectiveRegistry.expand("dice", options: ["batch": .bool(true)]), [.init(name: "dice", options: ["batch": .bool(true)])])
    }

    func testOptionsReachTheMembers() throws {
        let members = try ObjectiveRegistry.expand("hadwiger", options: [
            "primary": .string("dice"), "primaryOptions": .object(["includeBackground": .bool(false)]),
            "deltas": .array([.number(4)]), "tau": .number(0.25), "sigma": .number(0), "eps": .number(1e-5),
            "priors": .array([.string("euler"), .string("perimeter")]),
        ])
        XCTAssertEqual(members.map(\.name), ["dice", "hadwiger-euler", "hadwiger-perimeter"])
        XCTAssertEqual(members[0].options, ["includeBackground": .bool(false)])
        XCTAssertEqual(members[1].options, ["deltas": .array([.number(4)]), "eps": .number(1e-5)])
        XCTAssertEqual(members[2].options["tau"], .number(0.25))
        XCTAssertEqual(members[2].options["sigma"], .number(0))
        // A single prior may be written as a string.
        XCTAssertEqual(try ObjectiveRegistry.expand("hadwiger", options: ["priors": .string("area")]).map(\.name), ["cedice", "hadwiger-area"])
        // Every member builds.
        for m in members { XCTAssertNoThrow(try ObjectiveRegistry.make(m.name, options: m.options)) }
    }

    func testMistakesAreNamed() {
        func message(_ options: [String: OptionValue]) -> String {
            do { _ = try ObjectiveRegistry.expand("hadwiger", options: options, path: "objectives[0].options"); return "no error" } catch { return "\(error)" }
        }
        XCTAssertTrue(message(["prior": .string("area")]).contains("'prior'"))
        XCTAssertTrue(message(["priors": .array([.string("volume")])]).contains("objectives[0].options.priors"))
        XCTAssertTrue(message(["priors": .array([.string("area"), .string("area")])]).contains("distinct"))
        XCTAssertTrue(message(["priors": .array([])]).contains("priors"))
        XCTAssertTrue(message(["primary": .string("nope")]).contains("unknown loss 'nope'"))
        XCTAssertTrue(message(["primary": .string("hadwiger-area")]).contains("segmentation loss"))
        XCTAssertTrue(message(["primaryOptions": .object(["gamma": .number(2)])]).contains("gamma"))
        XCTAssertTrue(message(["deltas": .array([.number(0)])]).contains("deltas"))
        XCTAssertTrue(message(["tau": .number(-1)]).contains("tau"))
        XCTAssertThrowsError(try ObjectiveRegistry.make("hadwiger")) { XCTAssertTrue("\($0)".contains("several objectives"), "\($0)") }
        XCTAssertThrowsError(try ObjectiveRegistry.register(name: "hadwiger", summary: "") { _ in try ObjectiveRegistry.make("ce") })
    }

    func testMembersMatchThePyTorchReference() throws {
        func load(_ name: String) throws -> Tensor {
            let url = try XCTUnwrap(Bundle.module.url(forResource: name, withExtension: "npy", subdirectory: "Fixtures/hadwiger_torch"))
            return try Tensor.loadNPY(url.path)
        }
        let logits = try load("defaults_logits")
        let target = try LossTarget(labels: load("defaults_labels").to(.int64))
        let expected = try load("defaults_loss").doubles()
        let members = try ObjectiveRegistry.expand("hadwiger")
        var values: [Double] = []
        for m in members.dropFirst() {
            let objective = try ObjectiveRegistry.make(m.name, options: m.options)
            values.append(try objective(logits: logits, target: target).item())
        }
        assertClose(values, expected, atol: 1e-8, rtol: 1e-5, "hadwiger priors at the default scales")
    }
}
