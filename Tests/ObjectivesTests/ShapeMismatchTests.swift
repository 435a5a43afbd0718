import XCTest
@testable import Objectives
import Torch

/// Where a prediction meets a user's target, a shape mismatch is a thrown error, not a trap.
final class ShapeMismatchTests: XCTestCase {
    func testDiceScoreThrowsOnMismatchedShapes() throws {
        let dice = try DiceLoss(options: ObjectiveOptions([:], for: "dice"))
        let p = try Tensor.ones([1, 2, 4, 4]), g = try Tensor.ones([1, 2, 3, 4])
        XCTAssertThrowsError(try dice.score(p, g)) { error in
            XCTAssertTrue("\(error)".contains("size"), "\(error)")
        }
        XCTAssertNoThrow(try dice.score(p, p))
    }
}
