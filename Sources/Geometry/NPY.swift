/// The NumPy `.npy` format (versions 1.0–3.0) as bytes: the dense-array interchange format that
/// Contour reads and writes for tensors, masks and fixtures. File access is left to callers.
public struct NPYArray: Sendable, Equatable {
    public enum ScalarType: String, Sendable, CaseIterable {
        case bool = "b1", uint8 = "u1", int8 = "i1", int16 = "i2", uint16 = "u2", int32 = "i4",
             uint32 = "u4", int64 = "i8", uint64 = "u8", float16 = "f2", float32 = "f4", float64 = "f8"

        public var byteCount: Int { Int(rawValue.dropFirst())! }
    }

    public var scalarType: ScalarType
    public var shape: [Int]
    /// Little-endian, C-order element bytes.
    public var bytes: [UInt8]

    public init(scalarType: ScalarType, shape: [Int], bytes: [UInt8]) {
        precondition(bytes.count == shape.reduce(1, *) * scalarType.byteCount, "byte count does not match shape")
        self.scalarType = scalarType
        self.shape = shape
        self.bytes = bytes
    }

    public var count: Int { shape.reduce(1, *) }

    public init<T: NPYScalar>(shape: [Int], elements: [T]) {
        precondition(elements.count == shape.reduce(1, *), "\(elements.count) elements for shape \(shape)")
        self.scalarType = T.npyType
        self.shape = shape
        self.bytes = elements.withUnsafeBytes { Array($0) }
    }

    /// The elements converted to `Double` (booleans and integers exactly; float16 widened).
    public func doubles() -> [Double] {
        bytes.withUnsafeBytes { raw -> [Double] in
            let n = count
            switch scalarType {
            case .bool, .uint8: return raw.bindMemory(to: UInt8.self).prefix(n).map(Double.init)
            case .int8: return raw.bindMemory(to: Int8.self).prefix(n).map(Double.init)
            case .int16: return raw.bindMemory(to: Int16.self).prefix(n).map(Double.init)
            case .uint16: return raw.bindMemory(to: UInt16.self).prefix(n).map(Double.init)
            case .int32: return raw.bindMemory(to: Int32.self).prefix(n).map(Double.init)
            case .uint32: return raw.bindMemory(to: UInt32.self).prefix(n).map(Double.init)
            case .int64: return raw.bindMemory(to: Int64.self).prefix(n).map(Double.init)
            case .uint64: return raw.bindMemory(to: UInt64.self).prefix(n).map(Double.init)
            case .float16: return raw.bindMemory(to: UInt16.self).prefix(n).map { Double(halfToFloat($0)) }
            case .float32: return raw.bindMemory(to: Float.self).prefix(n).map(Double.init)
            case .float64: return Array(raw.bindMemory(to: Double.self).prefix(n))
            }
        }
    }

    /// The raw elements when the stored type is exactly `T`.
    public func elements<T: NPYScalar>(as type: T.Type = T.self) throws -> [T] {
        guard scalarType == T.npyType else {
            throw GeometryError.format("npy holds \(scalarType) values, expected \(T.npyType)")
        }
        return bytes.withUnsafeBytes { Array($0.bindMemory(to: T.self).prefix(count)) }
    }

    // MARK: - Encoding

    public func encoded() -> [UInt8] {
        let dims = shape.map(String.init)
        let shapeText = shape.count == 1 ? "(\(dims[0]),)" : "(" + dims.joined(separator: ", ") + ")"
        let endian = scalarType.byteCount == 1 ? "|" : "<"
        var header = "{'descr': '\(endian)\(scalarType.rawValue)', 'fortran_order': False, 'shape': \(shapeText), }"
        // Magic (6) + version (2) + length (2) + header + '\n' is padded to a multiple of 64.
        let unpadded = 10 + header.utf8.count + 1
        header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        var out: [UInt8] = [0x93] + Array("NUMPY".utf8) + [1, 0]
        let len = UInt16(header.utf8.count)
        out += [UInt8(len & 0xff), UInt8(len >> 8)]
        out += Array(header.utf8)
        out += bytes
        return out
    }

    // MARK: - Decoding

    /// Parses `.npy` bytes; `name` is used in error messages (usually the file path).
    public init(decoding data: [UInt8], name: String = "npy data") throws {
        func fail(_ why: String) -> GeometryError { .format("\(name): not a valid .npy file: \(why)") }
        guard data.count >= 10, data[0] == 0x93, Array(data[1..<6]) == Array("NUMPY".utf8) else {
            throw fail("missing the \\x93NUMPY magic")
        }
        let major = data[6]
        let headerLength: Int
        let headerStart: Int
        switch major {
        case 1:
            headerLength = Int(data[8]) | Int(data[9]) << 8
            headerStart = 10
        case 2, 3:
            guard data.count >= 12 else { throw fail("truncated header") }
            headerLength = Int(data[8]) | Int(data[9]) << 8 | Int(data[10]) << 16 | Int(data[11]) << 24
            headerStart = 12
        default:
            throw fail("unsupported format version \(major)")
        }
        guard data.count >= headerStart + headerLength else { throw fail("truncated header") }
        guard let header = String(validating: data[headerStart..<(headerStart + headerLength)], as: UTF8.self) else {
            throw fail("header is not text")
        }
        let descr = try Self.field("descr", in: header, name: name)
        let fortran = try Self.field("fortran_order", in: header, name: name)
        let shapeText = try Self.field("shape", in: header, name: name)

        var d = Substring(descr.trimmingQuotes())
        let order = d.first
        if order == "<" || order == "|" || order == "=" { d = d.dropFirst() }
        else if order == ">" { throw fail("big-endian data (\(descr)) is not supported; save with '<' byte order") }
        if d == "?" { d = "b1" }
        guard let type = ScalarType(rawValue: String(d)) else { throw fail("unsupported dtype \(descr)") }

        let dims = shapeText.filter { !"() ".contains($0) }.split(separator: ",")
        var shape: [Int] = []
        for dim in dims {
            guard let v = Int(dim), v >= 0 else { throw fail("bad shape \(shapeText)") }
            shape.append(v)
        }
        if let problem = ElementLimit.problem(shape, source: name) { throw GeometryError.format(problem) }
        let start = headerStart + headerLength
        let needed = ElementLimit.byteCount(shape, bytesPerElement: type.byteCount)!
        guard data.count - start >= needed else {
            throw fail("expected \(needed) data bytes for shape \(shape) of \(type), found \(data.count - start)")
        }
        var bytes = Array(data[start..<(start + needed)])
        if fortran == "True" && shape.count > 1 {
            bytes = Self.fortranToC(bytes, shape: shape, width: type.byteCount)
        } else if fortran != "False" && fortran != "True" {
            throw fail("bad fortran_order \(fortran)")
        }
        self.init(scalarType: type, shape: shape, bytes: bytes)
    }

    private static func field(_ key: String, in header: String, name: String) throws -> String {
        guard let r = header.firstRange(of: "'\(key)'") else {
            throw GeometryError.format("\(name): not a valid .npy file: header has no '\(key)'")
        }
        var rest = header[r.upperBound...].drop { $0 == " " || $0 == ":" }
        if rest.first == "(" {
            guard let close = rest.firstIndex(of: ")") else {
                throw GeometryError.format("\(name): not a valid .npy file: unterminated shape")
            }
            return String(rest[...close])
        }
        if let end = rest.firstIndex(where: { $0 == "," || $0 == "}" }) { rest = rest[..<end] }
        return rest.trimmingCharacters()
    }

    private static func fortranToC(_ bytes: [UInt8], shape: [Int], width: Int) -> [UInt8] {
        let n = shape.reduce(1, *)
        var out = [UInt8](repeating: 0, count: bytes.count)
        var fStrides = [Int](repeating: 1, count: shape.count)
        for i in 1..<shape.count { fStrides[i] = fStrides[i - 1] * shape[i - 1] }
        var index = [Int](repeating: 0, count: shape.count)
        for c in 0..<n {
            var f = 0
            for i in 0..<shape.count { f += index[i] * fStrides[i] }
            for b in 0..<width { out[c * width + b] = bytes[f * width + b] }
            var axis = shape.count - 1
            while axis >= 0 {
                index[axis] += 1
                if index[axis] < shape[axis] { break }
                index[axis] = 0
                axis -= 1
            }
        }
        return out
    }
}

public protocol NPYScalar: Sendable { static var npyType: NPYArray.ScalarType { get } }
extension Bool: NPYScalar { public static var npyType: NPYArray.ScalarType { .bool } }
extension UInt8: NPYScalar { public static var npyType: NPYArray.ScalarType { .uint8 } }
extension Int8: NPYScalar { public static var npyType: NPYArray.ScalarType { .int8 } }
extension Int16: NPYScalar { public static var npyType: NPYArray.ScalarType { .int16 } }
extension UInt16: NPYScalar { public static var npyType: NPYArray.ScalarType { .uint16 } }
extension Int32: NPYScalar { public static var npyType: NPYArray.ScalarType { .int32 } }
extension UInt32: NPYScalar { public static var npyType: NPYArray.ScalarType { .uint32 } }
extension Int64: NPYScalar { public static var npyType: NPYArray.ScalarType { .int64 } }
extension UInt64: NPYScalar { public static var npyType: NPYArray.ScalarType { .uint64 } }
extension Float: NPYScalar { public static var npyType: NPYArray.ScalarType { .float32 } }
extension Double: NPYScalar { public static var npyType: NPYArray.ScalarType { .float64 } }

/// IEEE 754 binary16 → binary32.
func halfToFloat(_ h: UInt16) -> Float {
    let sign = UInt32(h >> 15) << 31
    let exp = Int((h >> 10) & 0x1f)
    var mant = UInt32(h & 0x3ff)
    if exp == 0 {
        if mant == 0 { return Float(bitPattern: sign) }
        var e = -14
        while mant & 0x400 == 0 { mant <<= 1; e -= 1 }
        mant &= 0x3ff
        return Float(bitPattern: sign | UInt32(e + 127) << 23 | mant << 13)
    }
    if exp == 31 { return Float(bitPattern: sign | 0x7f80_0000 | mant << 13) }
    return Float(bitPattern: sign | UInt32(exp - 15 + 127) << 23 | mant << 13)
}

private extension StringProtocol {
    func trimmingCharacters() -> String {
        String(self.drop { $0 == " " }.reversed().drop { $0 == " " }.reversed())
    }
    func trimmingQuotes() -> String {
        String(self.filter { $0 != "'" && $0 != "\"" })
    }
}
