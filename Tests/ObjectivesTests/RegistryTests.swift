import XCTest
import Torch
@testable import Objectives

final class RegistryTests: XCTestCase {
    func assertError(_ name: String, _ json: String = "{}", mentions: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try ObjectiveRegistry.make(name, json: json), file: file, line: line) { e in
            XCTAssertTrue("\(e)".contains(mentions), "\(e) does not mention \(mentions)", file: file, line: line)
        }
    }

    func testBadNamesAndOptionsAreErrorsNamingThem() {
        assertError("dicee", mentions: "'dicee'")
        assertError("scnp+nope", mentions: "'scnp+nope'")
        assertError("dice", #"{"smoothnr": 1}"#, mentions: "'smoothnr'")
        assertError("scnp+focal", #"{"gama": 2}"#, mentions: "'gama'")
        assertError("focal", #"{"alpha": -0.1}"#, mentions: "'alpha'")
        assertError("tversky", #"{"alpha": -1}"#, mentions: "'alpha'")
        assertError("tversky", #"{"beta": "x"}"#, mentions: "'beta'")
        assertError("focal", #"{"gamma": -1}"#, mentions: "'gamma'")
        assertError("dice", #"{"reduction": "avg"}"#, mentions: "'reduction'")
        assertError("dice", #"{"softmax": true, "sigmoid": true}"#, mentions: "'softmax'")
        assertError("ce", #"{"labelSmoothing": 2}"#, mentions: "'labelSmoothing'")
        assertError("cldice", #"{"iterations": -1}"#, mentions: "'iterations'")
        assertError("rrw", #"{"map": "active-contour"}"#, mentions: "'map'")
        assertError("boundary", #"{"parity": true}"#, mentions: "'parity'")
        assertError("cedice", #"{"reduction": "none"}"#, mentions: "'reduction'")
        assertError("dice", "[1]", mentions: "JSON object")
    }

    func testEveryNameBuildsAndRunsIn2DAnd3D() throws {
        for shape in [[2, 3, 8, 8], [1, 2, 4, 6, 6]] {
            let g = try Generator(seed: 1)
            let logits = try Tensor.randn(shape, dtype: .float64, generator: g)
            let target = try LossTarget(labels: Tensor.randint(0, shape[1], [shape[0], 1] + shape.dropFirst(2), generator: g))
            // topoloss is 2D only (its 3D error is tested in TopoLossTests).
            // Objectives on label maps only (heatmap objectives: AnnotatedTargetsTests, BaBLossTests).
            let onLabels = ObjectiveRegistry.names.filter { (try? ObjectiveRegistry.make($0)).map { $0.needs == [.labels] } ?? true }
            // ConDSeg's objectives are binary (dicebce) or read several heads / both forwards (ConDSegLossTests).
            let binaryOrPaired: Set<String> = ["dicebce", "condseg", "condseg-cr"]
            for name in onLabels.filter({ (shape.count == 4 || $0 != "topoloss") && !binaryOrPaired.contains($0) })
                + ["scnp+cldice", "scnp+rrw", "scnp+skelrecall"] {
                let v = try lossValue(name, "{}", logits, target)
                XCTAssertTrue(v.isFinite, "\(name) \(shape): \(v)")
            }
            let binary = try LossTarget(labels: Tensor.randint(0, 2, [shape[0], 1] + shape.dropFirst(2), generator: g))
            XCTAssertTrue(try lossValue("dicebce", "{}", logits.narrow(dim: 1, start: 0, length: 1), binary).isFinite, "dicebce \(shape)")
        }
    }

    func testLabelsOutsideTheClassesAreRejected() throws {
        let logits = try Tensor.zeros([1, 2, 2, 2], dtype: .float64)
        let bad = try labels([0, 1, 2, 255], [1, 1, 2, 2])
        XCTAssertThrowsError(try lossValue("dice", "{}", logits, bad)) { XCTAssertTrue("\($0)".contains("ignoreIndex")) }
        // ce with an ignore label averages over the other pixels, as PyTorch.
        let ignored = try labels([0, 1, 255, 255], [1, 1, 2, 2])
        let x = try tensor([1, 2, 3, 4, 0, 0, 0, 0], [1, 2, 2, 2])
        let expected = (Foundation.log(1 + Foundation.exp(-1.0)) + Foundation.log(1 + Foundation.exp(2.0))) / 2
        assertClose(try lossValue("ce", #"{"ignoreIndex": 255}"#, x, ignored), expected, tol: 1e-12)
    }

    func testCompositeSumsSeparatelyEvaluableTerms() throws {
        let json = #"[{"name": "cedice"}, {"name": "scnp+focal", "weight": 0.5, "options": {"k": 5}}, {"name": "rrw", "weight": 2}]"#
        let composite = try CompositeObjective(json: json)
        XCTAssertEqual(composite.terms.map(\.name), ["cedice", "scnp+focal", "rrw"])
        let logits = try fixture("x2d_logits"), target = try LossTarget(labels: fixture("x2d_labels"))
        let values = try composite.values(logits: logits, target: target).map { try $0.item() }
        assertClose(try composite(logits: logits, target: target).item(), values[0] + 0.5 * values[1] + 2 * values[2], tol: 1e-12)
        assertClose(values[1], try lossValue("scnp+focal", #"{"k": 5}"#, logits, target), tol: 1e-12)
        XCTAssertThrowsError(try CompositeObjective(json: #"[{"name": "dice", "weight": -1}]"#))
        XCTAssertThrowsError(try CompositeObjective(json: #"[{"name": "dice", "options": {"k": 3}}]"#)) {
            XCTAssertTrue("\($0)".contains("'k'"))
        }
    }
}
