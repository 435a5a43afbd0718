/// A JSON value that remembers where it starts in its file, so that errors in `dataset.json`,
/// landmark and splits files name `file:line:column` and the key, in the user's terms.
/// JSONDecoder's errors (coding paths, `typeMismatch(Swift.Int, …)`) are not readable.
struct JSONValue {
    enum Kind {
        /// Members in file order; a repeated key keeps its last value (as Python's json does).
        case object([(key: String, value: JSONValue)])
        case array([JSONValue])
        case string(String)
        /// The literal text is kept so integers are checked exactly.
        case number(Double, text: String)
        case bool(Bool)
        case null
    }

    var kind: Kind
    /// Where the value starts, 1-based; columns count characters, as Python's json reports them.
    var line: Int
    var column: Int

    /// "an object", "an array", "a string \"40\"", … for "expected X, found Y" messages.
    var found: String {
        switch kind {
        case .object: return "an object"
        case .array: return "an array"
        case .string(let s): return "a string \"\(s)\""
        case .number(_, let text): return "a number \(text)"
        case .bool(let b): return "\(b)"
        case .null: return "null"
        }
    }

    subscript(key: String) -> JSONValue? {
        guard case .object(let members) = kind else { return nil }
        return members.last { $0.key == key }?.value
    }

    var members: [(key: String, value: JSONValue)]? { if case .object(let m) = kind { return m } else { return nil } }
    var elements: [JSONValue]? { if case .array(let a) = kind { return a } else { return nil } }
    var string: String? { if case .string(let s) = kind { return s } else { return nil } }
    var double: Double? { if case .number(let v, _) = kind { return v } else { return nil } }
    /// An integer literal (no fraction or exponent), as Python's json reads an `int`.
    var int: Int? { if case .number(_, let text) = kind { return Int(text) } else { return nil } }
}

/// A strict JSON reader with Python's `json.loads` rules: no trailing commas, comments or
/// single quotes; `NaN`, `Infinity` and `-Infinity` accepted. Errors name `file:line:column`.
struct JSONDocument {
    let path: String
    private let bytes: [UInt8]
    private var i = 0
    /// Open objects/arrays: nesting is bounded (as Python's json is by its recursion limit), so a
    /// hostile file cannot overflow the stack.
    private var depth = 0
    static let maximumDepth = 512
    /// The line and column of the last value's start: values start in file order, so each position
    /// is counted on from the last one (linear in the file; from the start each time, a 700 KB
    /// splits file took 3.4 s).
    private var mark: (offset: Int, line: Int, column: Int)
    /// Line 1, column 1: after a UTF-8 byte-order mark, if any (as Python's `utf-8-sig` reads it).
    private let origin: (offset: Int, line: Int, column: Int)

    /// Parses the whole of `bytes`; `path` only names the file in messages.
    static func parse(_ bytes: [UInt8], path: String) throws -> JSONValue {
        var p = JSONDocument(path: path, bytes: bytes)
        p.skipSpace()
        let value = try p.value()
        p.skipSpace()
        guard p.i == p.bytes.count else { throw p.error("unexpected \(p.describeHere()) after the JSON value ends") }
        return value
    }

    static func read(path: String) throws -> JSONValue {
        try parse(try FileSystem.read(path), path: path)
    }

    /// "file:line:column: message" for a value found in the file.
    static func error(_ path: String, at value: JSONValue, _ message: String) -> ImagingError {
        ImagingError("\(path):\(value.line):\(value.column): \(message)")
    }

    private init(path: String, bytes: [UInt8]) {
        self.path = path
        self.bytes = bytes
        origin = (bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0, 1, 1)
        mark = origin
        i = origin.offset
    }

    /// Line and column (counted in characters) of `offset`, counting on from `from`.
    private func position(_ offset: Int, from: (offset: Int, line: Int, column: Int)) -> (offset: Int, line: Int, column: Int) {
        var (o, line, column) = from
        let end = min(offset, bytes.count)
        while o < end {
            let b = bytes[o]
            if b == 0x0A { line += 1; column = 1 } else if b & 0xC0 != 0x80 { column += 1 }
            o += 1
        }
        return (o, line, column)
    }

    private func error(_ message: String, at offset: Int? = nil) -> ImagingError {
        let p = position(offset ?? i, from: origin)
        return ImagingError("\(path):\(p.line):\(p.column): invalid JSON: \(message)")
    }

    private func describeHere() -> String {
        guard i < bytes.count else { return "end of file" }
        let b = bytes[i]
        return b >= 0x20 && b < 0x7F ? "'\(Character(Unicode.Scalar(b)))'" : "byte 0x\(String(b, radix: 16, uppercase: true))"
    }

    private mutating func skipSpace() {
        while i < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[i]) { i += 1 }
    }

    private mutating func value() throws -> JSONValue {
        mark = position(i, from: mark)
        let (line, column) = (mark.line, mark.column)
        func made(_ kind: JSONValue.Kind) -> JSONValue { JSONValue(kind: kind, line: line, column: column) }
        guard i < bytes.count else { throw error("expected a value, found the end of the file") }
        switch bytes[i] {
        case UInt8(ascii: "{"): return made(try object())
        case UInt8(ascii: "["): return made(try array())
        case UInt8(ascii: "\""): return made(.string(try string()))
        case UInt8(ascii: "t"): try literal("true"); return made(.bool(true))
        case UInt8(ascii: "f"): try literal("false"); return made(.bool(false))
        case UInt8(ascii: "n"): try literal("null"); return made(.null)
        case UInt8(ascii: "N"): try literal("NaN"); return made(.number(.nan, text: "NaN"))
        case UInt8(ascii: "I"): try literal("Infinity"); return made(.number(.infinity, text: "Infinity"))
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return made(try number())
        case UInt8(ascii: "'"): throw error("strings need double quotes, not single quotes")
        case UInt8(ascii: "/"): throw error("JSON has no comments")
        default: throw error("expected a value, found \(describeHere())")
        }
    }

    private mutating func literal(_ word: String) throws {
        let w = Array(word.utf8)
        guard bytes[i...].starts(with: w) else { throw error("expected a value, found \(describeHere())") }
        i += w.count
    }

    private mutating func object() throws -> JSONValue.Kind {
        depth += 1
        defer { depth -= 1 }
        guard depth <= Self.maximumDepth else { throw error("nested more than \(Self.maximumDepth) levels deep") }
        i += 1
        var members: [(key: String, value: JSONValue)] = []
        skipSpace()
        if i < bytes.count, bytes[i] == UInt8(ascii: "}") { i += 1; return .object(members) }
        while true {
            skipSpace()
            guard i < bytes.count, bytes[i] == UInt8(ascii: "\"") else {
                if i < bytes.count, bytes[i] == UInt8(ascii: "}"), !members.isEmpty {
                    throw error("trailing comma before '}' (JSON, like Python's json, allows none)", at: lastComma())
                }
                if i < bytes.count, bytes[i] == UInt8(ascii: "'") { throw error("strings need double quotes, not single quotes") }
                throw error("expected a key in double quotes, found \(describeHere())")
            }
            let key = try string()
            skipSpace()
            guard i < bytes.count, bytes[i] == UInt8(ascii: ":") else { throw error("expected ':' after the key \"\(key)\", found \(describeHere())") }
            i += 1
            skipSpace()
            members.append((key, try value()))
            skipSpace()
            guard i < bytes.count else { throw error("the object is not closed: expected ',' or '}', found the end of the file") }
            if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
            if bytes[i] == UInt8(ascii: "}") { i += 1; return .object(members) }
            throw error("expected ',' or '}' after the value of \"\(key)\", found \(describeHere())")
        }
    }

    private mutating func array() throws -> JSONValue.Kind {
        depth += 1
        defer { depth -= 1 }
        guard depth <= Self.maximumDepth else { throw error("nested more than \(Self.maximumDepth) levels deep") }
        i += 1
        var elements: [JSONValue] = []
        skipSpace()
        if i < bytes.count, bytes[i] == UInt8(ascii: "]") { i += 1; return .array(elements) }
        while true {
            skipSpace()
            if i < bytes.count, bytes[i] == UInt8(ascii: "]"), !elements.isEmpty {
                throw error("trailing comma before ']' (JSON, like Python's json, allows none)", at: lastComma())
            }
            elements.append(try value())
            skipSpace()
            guard i < bytes.count else { throw error("the array is not closed: expected ',' or ']', found the end of the file") }
            if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
            if bytes[i] == UInt8(ascii: "]") { i += 1; return .array(elements) }
            throw error("expected ',' or ']' in the array, found \(describeHere())")
        }
    }

    /// The offset of the comma before the current position (for trailing-comma messages).
    private func lastComma() -> Int {
        var j = i - 1
        while j > 0, bytes[j] != UInt8(ascii: ",") { j -= 1 }
        return j
    }

    private mutating func string() throws -> String {
        let start = i
        i += 1
        var out: [UInt8] = []
        while true {
            guard i < bytes.count else { throw error("the string is not closed", at: start) }
            let b = bytes[i]
            if b == UInt8(ascii: "\"") { i += 1; break }
            if b < 0x20 { throw error("control character (byte 0x\(String(b, radix: 16))) inside a string; write it escaped, e.g. \\n") }
            if b != UInt8(ascii: "\\") { out.append(b); i += 1; continue }
            i += 1
            guard i < bytes.count else { throw error("the string is not closed", at: start) }
            let e = bytes[i]
            i += 1
            switch e {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(e)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = try hex4()
                if (0xD800..<0xDC00).contains(scalar), bytes[i...].starts(with: Array("\\u".utf8)) {
                    let save = i
                    i += 2
                    let low = try hex4()
                    if (0xDC00..<0xE000).contains(low) { scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00) } else { i = save }
                }
                out += Array(String(Character(Unicode.Scalar(scalar) ?? "\u{FFFD}")).utf8)
            default: throw error("invalid escape \\\(Character(Unicode.Scalar(e))) in a string", at: i - 2)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    private mutating func hex4() throws -> UInt32 {
        guard i + 4 <= bytes.count, let v = UInt32(String(decoding: bytes[i..<(i + 4)], as: UTF8.self), radix: 16) else {
            throw error("\\u needs four hexadecimal digits")
        }
        i += 4
        return v
    }

    private mutating func number() throws -> JSONValue.Kind {
        let start = i
        if bytes[i] == UInt8(ascii: "-") {
            i += 1
            if bytes[i...].starts(with: Array("Infinity".utf8)) { i += 8; return .number(-.infinity, text: "-Infinity") }
        }
        func digits() -> Int {
            let s = i
            while i < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[i]) { i += 1 }
            return i - s
        }
        let intStart = i
        guard digits() > 0 else { throw error("expected a digit, found \(describeHere())") }
        if bytes[intStart] == UInt8(ascii: "0"), i - intStart > 1 { throw error("numbers cannot have leading zeros", at: start) }
        if i < bytes.count, bytes[i] == UInt8(ascii: ".") {
            i += 1
            guard digits() > 0 else { throw error("expected a digit after '.', found \(describeHere())") }
        }
        if i < bytes.count, bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E") {
            i += 1
            if i < bytes.count, bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-") { i += 1 }
            guard digits() > 0 else { throw error("expected a digit in the exponent, found \(describeHere())") }
        }
        let text = String(decoding: bytes[start..<i], as: UTF8.self)
        guard let v = Double(text) else { throw error("\(text) is not a number", at: start) }
        return .number(v, text: text)
    }
}
