import XCTest
import Torch
@testable import Objectives

/// The values MONAI's own test-suite asserts (../shared/spec/REFERENCE_VALUES.md, cases 1–5, 10).
final class MONAIReferenceTests: XCTestCase {
    // Case 1: input [[[[1,-1],[-1,1]]]], target [[[[1,0],[1,1]]]].
    func case1() throws -> (Tensor, LossTarget) {
        (try tensor([1, -1, -1, 1], [1, 1, 2, 2]), try labels([1, 0, 1, 1], [1, 1, 2, 2]))
    }

    func testDiceSigmoid() throws {
        let (x, y) = try case1()
        let dice = try ObjectiveRegistry.make("dice", json: #"{"sigmoid": true, "smoothNr": 1e-6, "smoothDr": 1e-6}"#)
        assertClose(try dice(logits: x, target: y).item(), 0.307576, "case 1")
        let squared = try ObjectiveRegistry.make("dice", json: #"{"sigmoid": true, "squaredPred": true}"#)
        assertClose(try squared(logits: x, target: y).item(), 0.178337, "case 1a")
        let jaccard = try ObjectiveRegistry.make("dice", json: #"{"sigmoid": true, "jaccard": true}"#)
        // MONAI prints 0.470451 and asserts with rtol 1e-5 (ours: 0.4704521).
        assertClose(try jaccard(logits: x, target: y).item(), 0.470451, tol: 1e-5 * 0.470451, "case 1b")
    }

    // Case 2: input (2,2,3), target (2,1,3), one-hot, softmax, smooth 1e-4.
    func testDiceSoftmaxOneHot() throws {
        let x = try tensor([-1, 0, 1, 1, 0, -1, 0, 0, 0, 0, 0, 0], [2, 2, 3])
        let y = try labels([1, 0, 0, 1, 1, 0], [2, 1, 3])
        let o = #""softmax": true, "toOneHot": true, "smoothNr": 1e-4, "smoothDr": 1e-4"#
        // Our losses take (B, C, spatial…) with ≥ 1 spatial dim; (2, 2, 3) is 1D: use it as (2, 2, 1, 3).
        let x4 = try x.reshape([2, 2, 1, 3]), y4 = try LossTarget(labels: y.labels!.reshape([2, 1, 1, 3]))
        assertClose(try lossValue("dice", "{\(o)}", x4, y4), 0.383713, "case 2")
        assertClose(try lossValue("dice", #"{\#(o), "reduction": "sum"}"#, x4, y4), 1.534853, "case 2a")
        // 2b: the (2, 2, 1) MONAI result of the 1D input; ours is (2, 2, 1, 1) for the 2D view.
        let none = try ObjectiveRegistry.make("dice", json: #"{"sigmoid": true, "toOneHot": true, "smoothNr": 1e-4, "smoothDr": 1e-4, "reduction": "none"}"#)
        let r = try none(logits: x4, target: y4)
        XCTAssertEqual(r.shape, [2, 2, 1, 1])
        assertClose(try r.doubles(), [0.296529, 0.415136, 0.599976, 0.428559], atol: 1e-6, rtol: 0, "case 2b")
        // The 1D input itself works too.
        assertClose(try lossValue("dice", "{\(o)}", x, y), 0.383713, "case 2, 1D")
    }

    // Case 3: DiceCELoss(to_onehot_y=True) with MONAI's default (no activation for Dice).
    func case3() throws -> (Tensor, LossTarget) {
        (try tensor([1, 1, 0, 0, 0, 1, 1, 0, 1, 0, 1, 0], [2, 2, 3]), try labels([0, 0, 1, 0, 1, 0], [2, 1, 3]))
    }

    func testDiceCE() throws {
        let (x, y) = try case3()
        let loss = try ObjectiveRegistry.make("cedice", json: #"{"softmax": false, "toOneHot": true}"#)
        assertClose(try loss(logits: x, target: y).item(), -1 + Foundation.log(1 + Foundation.exp(1.0)), tol: 1e-6, "case 3")
        assertClose(try loss(logits: x, target: y).item(), 0.3133, tol: 1e-4, "case 3")
    }

    // Case 4: FocalLoss(to_onehot_y=True), input (1,3,2,2) every channel [[1,1],[0.5,0]].
    func testFocal() throws {
        let channel: [Double] = [1, 1, 0.5, 0]
        let x = try tensor(channel + channel + channel, [1, 3, 2, 2])
        let y = try labels([0, 1, 2, 0], [1, 1, 2, 2])
        let run: (String) throws -> Double = { try lossValue("focal", $0, x, y) }
        assertClose(try run(#"{"toOneHot": true}"#), 0.34959, tol: 1e-5, "case 4")
        assertClose(try run(#"{"toOneHot": true, "includeBackground": false}"#), 0.36498, tol: 1e-5, "case 4a")
        assertClose(try run(#"{"toOneHot": true, "alpha": 0.8}"#), 0.08423, tol: 1e-5, "case 4b")
        assertClose(try run(#"{"toOneHot": true, "useSoftmax": true}"#), 0.16276, tol: 1e-5, "case 4c")
    }

    // Case 5: TverskyLoss(include_background=False, to_onehot_y=True, smooth_nr=0, smooth_dr=1e-3), case-3 data.
    func testTversky() throws {
        let (x, y) = try case3()
        let loss = try ObjectiveRegistry.make("tversky", json: #"{"includeBackground": false, "toOneHot": true, "smoothNr": 0, "smoothDr": 1e-3, "softmax": false}"#)
        assertClose(try loss(logits: x, target: y).item(), 0.000999, tol: 1e-6, "case 5")
    }

    // Case 10: SoftclDiceLoss() on all-ones (7,3,11,10) → 0 (the official form, which MONAI's
    // earlier SoftclDiceLoss is; MONAI 1.6 also gives 0 here).
    func testSoftClDiceAllOnes() throws {
        let ones = try Tensor.ones([7, 3, 11, 10], dtype: .float64)
        let loss = try ObjectiveRegistry.make("cldice", json: #"{"alpha": 1, "softmax": false}"#)
        XCTAssertEqual(try loss(logits: ones, target: LossTarget(dense: ones)).item(), 0, accuracy: 1e-12)
    }
}
