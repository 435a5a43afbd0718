import XCTest
@testable import Metrics

final class SummaryTests: XCTestCase {
    func testSkipsNaNAndMatchesNumpy() {
        // numpy: a = [1, 2, 4, 10]; a.mean() = 4.25, a.std() = 3.491060010942235, median 3
        let s = Summary([1, .nan, 2, 4, 10])
        XCTAssertEqual(s.n, 4)
        XCTAssertEqual(s.mean, 4.25, accuracy: 1e-12)
        XCTAssertEqual(s.std, 3.491060010942235, accuracy: 1e-12)
        XCTAssertEqual(s.median, 3, accuracy: 1e-12)
    }

    func testAllNaNIsNaN() {
        let s = Summary([.nan, .nan])
        XCTAssertEqual(s.n, 0)
        XCTAssertTrue(s.mean.isNaN)
    }
}
