import XCTest
@testable import Geometry

final class NPYTests: XCTestCase {
    func testRoundTripFloat32() throws {
        let a = NPYArray(shape: [2, 3], elements: [Float](arrayLiteral: 0, 1.5, -2, 3, 4, 5))
        let bytes = a.encoded()
        XCTAssertEqual(bytes.count % 64, 24) // header padded to 64, then 6×4 data bytes
        let b = try NPYArray(decoding: bytes)
        XCTAssertEqual(a, b)
        XCTAssertEqual(try b.elements(as: Float.self), [0, 1.5, -2, 3, 4, 5])
    }

    func testFortranOrderIsTransposedToC() throws {
        // np.asfortranarray(np.arange(6, dtype='<i4').reshape(2, 3)) stores 0,3,1,4,2,5.
        var header = "{'descr': '<i4', 'fortran_order': True, 'shape': (2, 3), }"
        header += String(repeating: " ", count: (64 - (10 + header.utf8.count + 1) % 64) % 64) + "\n"
        var bytes: [UInt8] = [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(header.utf8.count), 0] + Array(header.utf8)
        for v: Int32 in [0, 3, 1, 4, 2, 5] { withUnsafeBytes(of: v.littleEndian) { bytes += $0 } }
        let a = try NPYArray(decoding: bytes)
        XCTAssertEqual(try a.elements(as: Int32.self), [0, 1, 2, 3, 4, 5])
    }

    func testTruncatedDataNamesTheFile() {
        let bytes = Array(NPYArray(shape: [4], elements: [Double](repeating: 1, count: 4)).encoded().dropLast(3))
        XCTAssertThrowsError(try NPYArray(decoding: bytes, name: "x.npy")) { error in
            XCTAssertTrue("\(error)".contains("x.npy"), "\(error)")
        }
    }
}
