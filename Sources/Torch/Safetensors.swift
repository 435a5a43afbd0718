import FoundationEssentials
import Geometry

/// The safetensors format (readable by PyTorch's `safetensors.torch.load_file`): an 8-byte
/// little-endian header length, a JSON header naming each tensor's dtype, shape and byte range,
/// then the raw little-endian data.
public enum Safetensors {
    public struct File {
        /// Tensors in file order (by data offset).
        public var tensors: [(name: String, tensor: Tensor)]
        public var metadata: [String: String]

        public subscript(name: String) -> Tensor? { tensors.first { $0.name == name }?.tensor }
    }

    static let codes: [(DType, String)] = [
        (.bool, "BOOL"), (.uint8, "U8"), (.int8, "I8"), (.int16, "I16"), (.int32, "I32"), (.int64, "I64"),
        (.float16, "F16"), (.bfloat16, "BF16"), (.float32, "F32"), (.float64, "F64"),
    ]

    /// Serialises tensors (copied to the CPU) in the given order.
    public static func encode(_ tensors: [(name: String, tensor: Tensor)], metadata: [String: String] = [:]) throws -> [UInt8] {
        var seen = Set<String>()
        var entries: [String] = []
        var payload: [UInt8] = []
        if !metadata.isEmpty {
            let items = metadata.sorted { $0.key < $1.key }.map { "\(JSONString.quoted($0.key)):\(JSONString.quoted($0.value))" }
            entries.append("\"__metadata__\":{\(items.joined(separator: ","))}")
        }
        for (name, tensor) in tensors {
            guard seen.insert(name).inserted else { throw TorchError("safetensors: duplicate tensor name '\(name)'") }
            guard name != "__metadata__" else { throw TorchError("safetensors: '__metadata__' is reserved") }
            let code = codes.first { $0.0 == tensor.dtype }!.1
            let bytes = try tensor.rawBytes()
            let begin = payload.count
            payload += bytes
            let shape = tensor.shape.map(String.init).joined(separator: ",")
            entries.append("\(JSONString.quoted(name)):{\"dtype\":\"\(code)\",\"shape\":[\(shape)],\"data_offsets\":[\(begin),\(payload.count)]}")
        }
        var header = Array("{\(entries.joined(separator: ","))}".utf8)
        while header.count % 8 != 0 { header.append(0x20) }  // align data to 8 bytes, as the reference writer does
        var out: [UInt8] = []
        out.reserveCapacity(8 + header.count + payload.count)
        withUnsafeBytes(of: UInt64(header.count).littleEndian) { out += $0 }
        out += header
        out += payload
        return out
    }

    public static func save(_ tensors: [(name: String, tensor: Tensor)], metadata: [String: String] = [:],
                            to path: String) throws {
        try AtomicFile.write(try encode(tensors, metadata: metadata), to: path)
    }

    public static func decode(_ bytes: [UInt8], name: String = "safetensors data") throws -> File {
        func fail(_ why: String) -> TorchError { TorchError("\(name): not a valid safetensors file: \(why)") }
        guard bytes.count >= 8 else { throw fail("shorter than its 8-byte header length") }
        var n: UInt64 = 0
        for i in 0..<8 { n |= UInt64(bytes[i]) << (8 * UInt64(i)) }
        guard n <= UInt64(bytes.count - 8) else { throw fail("header length \(n) exceeds the file size") }
        let headerEnd = 8 + Int(n)
        let header: Header
        do {
            header = try JSONDecoder().decode(Header.self, from: Data(bytes[8..<headerEnd]))
        } catch {
            throw fail("header is not the expected JSON (\(error))")
        }
        let dataCount = bytes.count - headerEnd
        var tensors: [(name: String, tensor: Tensor)] = []
        for (key, entry) in header.entries.sorted(by: { $0.value.data_offsets.first ?? 0 < $1.value.data_offsets.first ?? 0 }) {
            guard let dtype = codes.first(where: { $0.1 == entry.dtype })?.0 else {
                throw fail("tensor '\(key)' has unsupported dtype \(entry.dtype)")
            }
            guard entry.data_offsets.count == 2, entry.shape.allSatisfy({ $0 >= 0 }) else {
                throw fail("tensor '\(key)' has malformed shape or offsets")
            }
            if let problem = ElementLimit.problem(entry.shape, source: "\(name): tensor '\(key)'") { throw TorchError(problem) }
            let begin = entry.data_offsets[0], end = entry.data_offsets[1]
            let expected = ElementLimit.byteCount(entry.shape, bytesPerElement: dtype.byteCount)
            guard begin >= 0, end >= begin, end <= dataCount, end - begin == expected else {
                throw fail("tensor '\(key)' byte range [\(begin), \(end)) does not hold shape \(entry.shape) of \(dtype)")
            }
            let slice = Array(bytes[(headerEnd + begin)..<(headerEnd + end)])
            tensors.append((key, try Tensor(bytes: slice, shape: entry.shape, dtype: dtype)))
        }
        return File(tensors: tensors, metadata: header.metadata)
    }

    public static func load(_ path: String) throws -> File {
        try decode(try AtomicFile.read(path), name: path)
    }

    struct Entry: Decodable {
        var dtype: String
        var shape: [Int]
        var data_offsets: [Int]
    }

    struct Header: Decodable {
        var entries: [String: Entry] = [:]
        var metadata: [String: String] = [:]

        struct Key: CodingKey {
            var stringValue: String
            var intValue: Int? { nil }
            init(stringValue: String) { self.stringValue = stringValue }
            init?(intValue: Int) { nil }
        }

        init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: Key.self)
            for key in c.allKeys {
                if key.stringValue == "__metadata__" {
                    metadata = try c.decode([String: String].self, forKey: key)
                } else {
                    entries[key.stringValue] = try c.decode(Entry.self, forKey: key)
                }
            }
        }
    }
}
