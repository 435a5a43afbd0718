import XCTest
@testable import Torch

/// Where CUDA graphs cannot run, creating one is an error saying why (recording and replay are
/// checked on a GPU by CUDATests.testCUDAGraphReplaysAForwardOnNewInputs).
final class CUDAGraphTests: XCTestCase {
    func testUnavailableIsAClearError() throws {
        guard let why = CUDAGraph.unavailableReason else { throw XCTSkip("CUDA graphs are usable here (CUDA and libcontour_cudagraph.so)") }
        if Device.isCUDAAvailable {
            XCTAssertTrue(why.contains("libcontour_cudagraph.so") || why.contains("cudagraph plugin"), why)
        } else {
            XCTAssertTrue(why.hasPrefix("CUDA graphs need CUDA: "), why)
            XCTAssertTrue(why.hasSuffix(Device.cudaUnavailableReason ?? "?"), why)
        }
        XCTAssertThrowsError(try CUDAGraph()) { XCTAssertEqual("\($0)", why) }
    }
}
