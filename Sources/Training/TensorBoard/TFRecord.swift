/// TFRecord framing of one record: little-endian UInt64 length, masked CRC-32C of those 8 bytes,
/// the data, masked CRC-32C of the data.
public enum TFRecord {
    public static func frame(_ data: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(data.count + 16)
        let length = littleEndian(UInt64(data.count))
        out += length
        out += littleEndian(CRC32C.masked(length))
        out += data
        out += littleEndian(CRC32C.masked(data))
        return out
    }

    static func littleEndian<T: FixedWidthInteger>(_ v: T) -> [UInt8] {
        (0..<(T.bitWidth / 8)).map { UInt8(truncatingIfNeeded: v >> ($0 * 8)) }
    }
}
