import Foundation

/// Checks a zip's directory before ZIPFoundation reads it: every offset and size the end record,
/// the zip64 records and the central directory claim must lie inside the file. ZIPFoundation
/// converts such 64-bit claims to `Int` unchecked, so one above 2⁶³ traps (found by fuzzing).
enum ZipBounds {
    static let endRecord: UInt32 = 0x0605_4b50, zip64Locator: UInt32 = 0x0706_4b50
    static let zip64EndRecord: UInt32 = 0x0606_4b50, centralEntry: UInt32 = 0x0201_4b50

    static func check(_ path: String) throws {
        guard let h = FileHandle(forReadingAtPath: path) else { throw TorchError("cannot read \(path): no such file or not readable") }
        defer { try? h.close() }
        func fail(_ why: String) -> TorchError { TorchError("\(path): not a readable zip archive (\(why))") }
        let size = UInt64(try h.seekToEnd())
        func read(_ offset: UInt64, _ count: UInt64) throws -> [UInt8] {
            guard offset <= size, count <= size - offset else { throw fail("a record at \(offset) of \(count) bytes runs past the file's end (\(size) bytes)") }
            try h.seek(toOffset: offset)
            let bytes = Array(try h.read(upToCount: Int(count)) ?? Data())
            guard bytes.count == Int(count) else { throw fail("the file ended while reading \(count) bytes at \(offset)") }
            return bytes
        }
        // The end record: 22 bytes plus a comment of at most 65 535.
        let tailLength = Swift.min(size, 22 + 65_535)
        let tail = try read(size - tailLength, tailLength)
        guard let at = stride(from: tail.count - 22, through: 0, by: -1).first(where: { u32(tail, $0) == endRecord }) else {
            throw fail("no end-of-central-directory record")
        }
        var entries = UInt64(u16(tail, at + 10)), directorySize = UInt64(u32(tail, at + 12)), directoryOffset = UInt64(u32(tail, at + 16))
        let endOffset = size - tailLength + UInt64(at)
        if endOffset >= 20, case let locator = try read(endOffset - 20, 20), u32(locator, 0) == zip64Locator {
            let record = try read(u64(locator, 8), 56)
            guard u32(record, 0) == zip64EndRecord else { throw fail("the zip64 locator does not point at a zip64 end record") }
            entries = u64(record, 32)
            directorySize = u64(record, 40)
            directoryOffset = u64(record, 48)
        }
        let directory = try read(directoryOffset, directorySize)
        var p = 0
        for _ in 0..<entries {
            guard p + 46 <= directory.count, u32(directory, p) == centralEntry else { throw fail("central directory entry \(p) is truncated or malformed") }
            var compressed = UInt64(u32(directory, p + 20)), uncompressed = UInt64(u32(directory, p + 24)), local = UInt64(u32(directory, p + 42))
            let nameLength = Int(u16(directory, p + 28)), extraLength = Int(u16(directory, p + 30)), commentLength = Int(u16(directory, p + 32))
            let extraStart = p + 46 + nameLength, next = extraStart + extraLength + commentLength
            guard next <= directory.count else { throw fail("central directory entry at \(p) runs past the directory") }
            // zip64 extra field (id 1): the 64-bit values of the fields saturated at 0xFFFFFFFF, in this order.
            var e = extraStart
            while e + 4 <= extraStart + extraLength {
                let id = u16(directory, e), length = Int(u16(directory, e + 2))
                guard e + 4 + length <= extraStart + extraLength else { break }
                if id == 1 {
                    var q = e + 4
                    func next64(_ value: inout UInt64) {
                        guard value == 0xFFFF_FFFF, q + 8 <= e + 4 + length else { return }
                        value = u64(directory, q)
                        q += 8
                    }
                    next64(&uncompressed)
                    next64(&compressed)
                    next64(&local)
                }
                e += 4 + length
            }
            guard local < size, compressed <= size - local else {
                throw fail("an entry claims data at offset \(local) of \(compressed) bytes, past the file's end (\(size) bytes)")
            }
            p = next
        }
    }

    static func u16(_ b: [UInt8], _ i: Int) -> UInt16 { UInt16(b[i]) | UInt16(b[i + 1]) << 8 }
    static func u32(_ b: [UInt8], _ i: Int) -> UInt32 { UInt32(u16(b, i)) | UInt32(u16(b, i + 2)) << 16 }
    static func u64(_ b: [UInt8], _ i: Int) -> UInt64 { UInt64(u32(b, i)) | UInt64(u32(b, i + 4)) << 32 }
}
