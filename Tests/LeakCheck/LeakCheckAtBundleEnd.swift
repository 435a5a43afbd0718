import CLeakCheck
import Foundation
import XCTest

/// Runs LeakSanitizer when the test bundle finishes (ASan builds only; see Tests/CLeakCheck), and exits
/// with LeakSanitizer's status 23 when it found leaks, as its check at exit would have.
final class LeakCheckAtBundleEnd: NSObject, XCTestObservation {
    func testBundleDidFinish(_ testBundle: Bundle) {
        guard contour_leak_check_now() == 1 else { return }
        FileHandle.standardError.write(Data("LeakSanitizer found leaks at the end of the test bundle (report above)\n".utf8))
        exit(23)
    }
}

@_cdecl("contour_register_leak_check")
public func registerLeakCheck() {
    XCTestObservationCenter.shared.addTestObserver(LeakCheckAtBundleEnd())
}
