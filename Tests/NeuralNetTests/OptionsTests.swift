import XCTest
@testable import NeuralNet

/// Typed option reading: wrong kinds and out-of-range values are different mistakes, and the
/// defaults a reader used are recorded for saving.
final class OptionsTests: XCTestCase {
    func error(_ body: () throws -> Any) -> OptionError? {
        do { _ = try body(); return nil } catch { return error as? OptionError }
    }

    func testWrongKindAndOutOfRangeAreToldApart() {
        let o = Options(["batchSize": .string("two"), "workers": .number(0), "rate": .bool(true), "depth": .number(2.5)],
                        for: "data", path: "data")
        XCTAssertEqual(error { try o.int("batchSize", default: 2, requirement: "≥ 1") { $0 >= 1 } },
                       OptionError(key: "data.batchSize", "data.batchSize must be an integer ≥ 1, got the string \"two\""))
        XCTAssertEqual(error { try o.int("workers", default: 2, requirement: "≥ 1") { $0 >= 1 } }?.description,
                       "data.workers must be ≥ 1, got 0")
        XCTAssertEqual(error { try o.double("rate", default: 1, requirement: "a number > 0") { $0 > 0 } }?.description,
                       "data.rate must be a number > 0, got true")
        XCTAssertEqual(error { try o.int("depth", default: 1) }?.description, "data.depth must be an integer, got 2.5")
        // Without a path, messages name the owner as before.
        let m = Options(["norm": .number(1)], for: "unet2d")
        XCTAssertEqual(error { try m.string("norm", default: "instance", allowed: ["instance", "batch"]) },
                       OptionError(key: "norm", "option 'norm' of 'unet2d' must be one of instance, batch, got 1"))
    }

    func testResolvedHoldsWhatWasGivenAndEveryDefaultRead() throws {
        let o = Options(["stages": .number(3), "custom": .object(["a": .number(1)]), "size": .number(4)], for: "m")
        XCTAssertEqual(try o.int("stages", default: 5), 3)
        XCTAssertEqual(try o.bool("deepSupervision", default: false), false)
        XCTAssertEqual(try o.ints("size", default: []), [4])
        XCTAssertNil(try o.optionalDouble("maxWidth"))
        XCTAssertTrue(o.has("custom"))
        XCTAssertEqual(o.resolved, ["stages": .number(3), "deepSupervision": .bool(false), "size": .array([.number(4)]),
                                    "custom": .object(["a": .number(1)])])
        // Read again from what it resolved to, a builder gets the same values.
        let again = Options(o.resolved, for: "m")
        XCTAssertEqual(try again.ints("size", default: []), [4])
        XCTAssertEqual(try again.bool("deepSupervision", default: true), false)
    }

    func testUnknownKeysNameTheirPath() {
        let o = Options(["epoch": .number(3)], for: "run", path: "run")
        _ = try? o.int("epochs", default: 1)
        XCTAssertEqual(error { try o.finish() }, OptionError(key: "run.epoch", "unknown key 'epoch' in run; known: epochs"))
    }
}
