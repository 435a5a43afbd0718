import XCTest
import NeuralNet
import Torch
import Foundation
@testable import Objectives

/// ConDSeg's DiceBCE, stage-2 and CR losses against scripts/fixtures/make_condseg_loss_fixtures.py
/// (the official functions re-implemented in PyTorch), published and corrected forms.
final class ConDSegLossTests: XCTestCase {
    func fx(_ name: String) throws -> Tensor { try fixture("condseg/\(name)") }

    /// Targets of the fixture's binary y (labels 0/1), every sample annotated.
    func targets() throws -> Targets { try Targets(labels: try fx("y").to(.int64), classes: 2) }

    func leaves(_ names: [String]) throws -> [Tensor] { try names.map { try fx($0).clone().requiringGrad() } }

    func testDiceBCEMatchesOfficial() throws {
        for (tag, parity) in [("parity", true), ("fixed", false)] {
            let o = try ObjectiveRegistry.make("dicebce", options: ["parity": .bool(parity)])
            let (loss, grad) = try lossAndGradient(o, logits: try fx("z0"), target: try LossTarget(labels: try fx("y").to(.int64)))
            assertClose(loss, try fx("dicebce_\(tag)_loss").item(), tol: 1e-10, "dicebce \(tag)")
            try assertClose(grad, try fx("dicebce_\(tag)_grad"), atol: 1e-12, "dicebce \(tag) gradient")
        }
    }

    func testConDSegMatchesOfficialPublishedAndCorrected() throws {
        for (tag, parity) in [("parity", true), ("fixed", false)] {
            let o = try ObjectiveRegistry.make("condseg", options: ["parity": .bool(parity)])
            XCTAssertEqual(o.heads, ["segmentation", "foreground", "background", "uncertainty"])
            let z = try leaves(["z0", "z1", "z2", "z3"])
            var heads = Heads()
            for (name, t) in zip(o.heads, z) { heads.set(name, t) }
            let loss = try o.loss(heads: heads, targets: try targets())
            assertClose(try loss.item(), try fx("condseg_\(tag)_loss").item(), tol: 1e-9, "condseg \(tag)")
            let grads = try gradients(of: loss, with: z)
            for i in 0..<4 { try assertClose(grads[i]!, try fx("condseg_\(tag)_grad\(i)"), atol: 1e-11, "condseg \(tag) gradient \(i)") }
        }
    }

    /// `sid: false` (the model without SID): the loss is the official DiceBCE of the mask alone.
    func testWithoutSIDTheLossIsTheDiceBCEOfTheMask() throws {
        for (tag, parity) in [("parity", true), ("fixed", false)] {
            let o = try ObjectiveRegistry.make("condseg", options: ["sid": .bool(false), "parity": .bool(parity)])
            XCTAssertEqual(o.heads, ["segmentation"])
            XCTAssertEqual(o.needs, [.labels])
            let z = try leaves(["z0"])
            let loss = try o.loss(heads: Heads("segmentation", levels: z), targets: try targets())
            assertClose(try loss.item(), try fx("dicebce_\(tag)_loss").item(), tol: 1e-10, "condseg without SID, \(tag)")
            try assertClose(try gradients(of: loss, with: z)[0]!, try fx("dicebce_\(tag)_grad"), atol: 1e-12, "gradient without SID, \(tag)")
            // Decoupled heads, were they given, are not read.
            var all = Heads()
            for (name, t) in zip(["segmentation", "foreground", "background", "uncertainty"], try ["z0", "z1", "z2", "z3"].map(fx)) { all.set(name, t) }
            assertClose(try o.loss(heads: all, targets: try targets()).item(), try loss.item(), tol: 0, "extra heads ignored")
        }
        // The decoupled terms' options have nothing to act on, and the saved options hold none of them.
        for key in ["batchArea", "betaGradient", "softmaxOfProbabilities", "unaugmentedBackground", "foregroundHead", "epsilon"] {
            let value: OptionValue = key == "foregroundHead" ? .string("fg") : key == "epsilon" ? .number(1e-6) : .bool(true)
            XCTAssertThrowsError(try ObjectiveRegistry.make("condseg", options: ["sid": .bool(false), key: value])) {
                XCTAssertTrue("\($0)".contains(key) && "\($0)".contains("sid: false"), "\($0)")
            }
        }
        let options = Options(["sid": .bool(false)], for: "condseg")
        _ = try ConDSegLoss(options: options)
        XCTAssertEqual(Set(options.resolved.keys), ["sid", "head", "parity", "inputs"])
        XCTAssertTrue(Set(options.resolved.keys).isDisjoint(with: ConDSegLoss.decoupledOptions), "\(options.resolved.keys)")
        XCTAssertThrowsError(try ObjectiveRegistry.make("condseg", options: ["sid": .string("off")])) { XCTAssertTrue("\($0)".contains("sid"), "\($0)") }
    }

    func testBetaDependsOnBatchUnderParity() throws {
        let o = try ConDSegLoss(options: Options([:], for: "condseg"))
        let z = try ["z0", "z1", "z2", "z3"].map { try fx($0).narrow(dim: 0, start: 0, length: 1) }
        let y = try fx("y").narrow(dim: 0, start: 0, length: 1)
        let single = try o.value(z, y: y).item(), doubled = try o.value(try z.map { try Tensor.cat([$0, $0]) }, y: try Tensor.cat([y, y])).item()
        assertClose(single, try fx("condseg_parity_single").item(), tol: 1e-9, "one image")
        assertClose(doubled, try fx("condseg_parity_doubled").item(), tol: 1e-9, "the image twice")
        XCTAssertGreaterThan(Swift.abs(single - doubled), 1e-3, "β sums over the batch as published")
        // Corrected: β from the batch-mean area is the same for the image twice; only Dice's +1 smoothing differs.
        let fixed = try ConDSegLoss(options: Options(["parity": .bool(false), "doubleSigmoid": .bool(true)], for: "condseg"))
        let fixedGap = try fixed.value(z, y: y).item() - fixed.value(try z.map { try Tensor.cat([$0, $0]) }, y: try Tensor.cat([y, y])).item()
        XCTAssertLessThan(Swift.abs(fixedGap), Swift.abs(single - doubled) / 10, "corrected β does not depend on the batch")
    }

    func testConsistencyLossMatchesOfficial() throws {
        for (tag, parity) in [("parity", true), ("fixed", false)] {
            let o = try ObjectiveRegistry.make("condseg-cr", options: ["parity": .bool(parity)])
            let z = try leaves(["z0", "z1"])
            var heads = Heads()
            heads.set("segmentation", z[0])
            heads = ConsistencyPair.merge(heads, Heads("segmentation", levels: [z[1]]))
            let loss = try o.loss(heads: heads, targets: try targets())
            assertClose(try loss.item(), try fx("cr_\(tag)_loss").item(), tol: 1e-9, "condseg-cr \(tag)")
            let grads = try gradients(of: loss, with: z)
            for i in 0..<2 { try assertClose(grads[i]!, try fx("cr_\(tag)_grad\(i)"), atol: 1e-11, "condseg-cr \(tag) gradient \(i)") }
        }
    }

    func testUnlabelledSamplesAreLeftOut() throws {
        let o = try ConDSegLoss(options: Options([:], for: "condseg"))
        let z = try ["z0", "z1", "z2", "z3"].map { try fx($0) }
        var heads = Heads()
        for (name, t) in zip(o.heads, z) { heads.set(name, t) }
        var t = try targets()
        t.annotatedLabels[1] = []
        let first = try o.value(try z.map { try $0.narrow(dim: 0, start: 0, length: 1) }, y: try fx("y").narrow(dim: 0, start: 0, length: 1))
        assertClose(try o.loss(heads: heads, targets: t).item(), try first.item(), tol: 1e-12, "only the labelled sample")
    }

    /// Published: the background head is scored against 1 − (labels before augmentation);
    /// corrected (`unaugmentedBackground: false` or `parity: false`): against 1 − y.
    func testBackgroundTargetUnaugmentedUnderParity() throws {
        let z = try ["z0", "z1", "z2", "z3"].map { try fx($0) }
        let y = try fx("y")
        let u = try y.flip([3])  // a flipped map stands in for the pre-augmentation one
        var heads = Heads()
        for (name, t) in zip(["segmentation", "foreground", "background", "uncertainty"], z) { heads.set(name, t) }
        var t = try targets()
        t.unaugmentedLabels = try u.to(.int64)
        let published = try ObjectiveRegistry.make("condseg", options: [:])
        XCTAssertTrue(published.needs.contains(.unaugmentedLabels))
        let withU = try published.loss(heads: heads, targets: t).item(), withoutU = try published.loss(heads: heads, targets: try targets()).item()
        // Only the β_bg·DiceBCE(M_bg, ·) term changes.
        let p2 = try z[2].sigmoid()
        let beta = 1 / (tanh(try p2.sum().item() / Double(y.shape.dropFirst(2).reduce(1, *))) + 1e-15)
        let expected = beta * (try DiceBCELoss.value(p2, 1 - u, doubleSigmoid: true).item() - DiceBCELoss.value(p2, 1 - y, doubleSigmoid: true).item())
        assertClose(withU - withoutU, expected, tol: 1e-9, "background term against the unaugmented map")
        XCTAssertGreaterThan(Swift.abs(expected), 1e-4)
        for options: [String: OptionValue] in [["unaugmentedBackground": .bool(false)], ["parity": .bool(false)]] {
            let corrected = try ObjectiveRegistry.make("condseg", options: options)
            XCTAssertFalse(corrected.needs.contains(.unaugmentedLabels))
            assertClose(try corrected.loss(heads: heads, targets: t).item(), try corrected.loss(heads: heads, targets: try targets()).item(),
                        tol: 0, "corrected form ignores the unaugmented map")
        }
    }

    func testClearErrors() throws {
        let cr = try ObjectiveRegistry.make("condseg-cr", options: [:])
        XCTAssertThrowsError(try cr.loss(heads: Heads("segmentation", levels: [try fx("z0")]), targets: try targets())) {
            XCTAssertTrue("\($0)".contains("step: consistency"), "\($0)")
        }
        let d = try ObjectiveRegistry.make("dicebce", options: [:])
        XCTAssertThrowsError(try d(logits: try Tensor.zeros([1, 3, 4, 4], dtype: .float64), target: try LossTarget(labels: try Tensor.zeros([1, 1, 4, 4], dtype: .int64)))) {
            XCTAssertTrue("\($0)".contains("binary heads"), "\($0)")
        }
        XCTAssertThrowsError(try ObjectiveRegistry.make("condseg", options: ["batchArea": .string("yes")]))
        XCTAssertThrowsError(try ObjectiveRegistry.make("condseg", options: ["unknownKey": .bool(true)]))
    }
}
