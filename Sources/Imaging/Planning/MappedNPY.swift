#if canImport(Glibc)
import Glibc
#endif
import Geometry

/// A C-order `.npy` file mapped into memory (`mmap`, read-only): reading a patch touches only the
/// pages of its rows, so cases need not fit in RAM and a patch costs no whole-file read.
public final class MappedNPY: @unchecked Sendable {
    public let path: String
    public let shape: [Int]
    public let scalarType: NPYArray.ScalarType
    let base: UnsafeMutableRawPointer
    let length: Int
    let dataOffset: Int
    /// A private copy in memory (`resident()`) rather than a mapping.
    let owned: Bool

    public init(path: String) throws {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw ImagingError("\(path): cannot open (\(String(cString: strerror(errno))))") }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0, st.st_size >= 10 else { throw ImagingError("\(path): not a valid .npy file (too short)") }
        length = Int(st.st_size)
        guard let p = mmap(nil, length, PROT_READ, MAP_PRIVATE, fd, 0), p != MAP_FAILED else {
            throw ImagingError("\(path): cannot map (\(String(cString: strerror(errno))))")
        }
        base = p
        owned = false
        self.path = path
        do {
            (shape, scalarType, dataOffset) = try Self.header(UnsafeRawBufferPointer(start: p, count: length), path: path)
        } catch {
            munmap(p, length)
            throw error
        }
        let needed = dataOffset + shape.reduce(1, *) * scalarType.byteCount
        guard needed <= length else {
            munmap(p, length)
            throw ImagingError("\(path): truncated .npy file (\(length) bytes, the header's shape \(shape) needs \(needed))")
        }
    }

    init(copying other: MappedNPY) {
        path = other.path
        shape = other.shape
        scalarType = other.scalarType
        length = other.length
        dataOffset = other.dataOffset
        base = UnsafeMutableRawPointer.allocate(byteCount: length, alignment: 64)
        base.copyMemory(from: other.base, byteCount: length)
        owned = true
    }

    /// The whole file read once into memory (`data.cache: memory`): later patches cost no page
    /// faults and do not depend on the page cache keeping the file.
    public func resident() -> MappedNPY { owned ? self : MappedNPY(copying: self) }

    deinit {
        if owned { base.deallocate() } else { munmap(base, length) }
    }

    /// Parses the header: shape, little-endian dtype, C order (what `contour data preprocess` writes).
    static func header(_ bytes: UnsafeRawBufferPointer, path: String) throws -> ([Int], NPYArray.ScalarType, Int) {
        func fail(_ why: String) -> ImagingError { ImagingError("\(path): not a valid .npy file: \(why)") }
        guard bytes[0] == 0x93, Array(bytes[1..<6]) == Array("NUMPY".utf8) else { throw fail("missing the \\x93NUMPY magic") }
        let major = bytes[6]
        let (length, start) = major == 1 ? (Int(bytes[8]) | Int(bytes[9]) << 8, 10)
            : (Int(bytes[8]) | Int(bytes[9]) << 8 | Int(bytes[10]) << 16 | Int(bytes[11]) << 24, 12)
        guard start + length <= bytes.count else { throw fail("truncated header") }
        let text = String(decoding: bytes[start..<(start + length)], as: UTF8.self)
        guard !text.contains("'fortran_order': True") else { throw fail("Fortran order; expected C order") }
        guard let d = text.firstRange(of: "'descr': '")?.upperBound, let dEnd = text[d...].firstIndex(of: "'") else { throw fail("no descr") }
        var descr = Substring(text[d..<dEnd])
        if descr.first == "<" || descr.first == "|" { descr = descr.dropFirst() }
        guard let type = NPYArray.ScalarType(rawValue: String(descr)) else { throw fail("dtype \(descr) is not supported") }
        guard let s = text.firstRange(of: "'shape': (")?.upperBound, let sEnd = text[s...].firstIndex(of: ")") else { throw fail("no shape") }
        let shape = text[s..<sEnd].split(separator: ",").compactMap { Int($0.filter { $0 != " " }) }
        return (shape, type, start + length)
    }

    /// Elements of `T` in the box `origin ..< origin + size` of the trailing `size.count` axes at
    /// `leading` (an index into the leading axes, e.g. the channel), zero outside the array,
    /// mirrored along the axes where `flips` is set.
    public func patch<T: NPYScalar & Numeric>(_ type: T.Type, leading: Int = 0, origin: [Int], size: [Int], flips: [Bool]? = nil) -> [T] {
        precondition(T.npyType == scalarType && size.count == origin.count && size.count <= shape.count && (flips?.count ?? size.count) == size.count)
        let spatial = Array(shape.suffix(size.count))
        let volume = spatial.reduce(1, *)
        let data = UnsafeRawPointer(base + dataOffset).assumingMemoryBound(to: T.self) + leading * volume
        return BoxCopy.copy(from: data, shape: spatial, origin: origin, size: size, flips: flips, fill: 0)
    }
}
