/// A value built by `Pickle.Unpickler`: Python's plain data types, plus whatever the host made of
/// a `REDUCE` or a persistent id (`object`, e.g. a tensor).
public indirect enum PickleValue {
    case none
    case bool(Bool)
    case int(Int)
    case float(Double)
    case string(String)
    case bytes([UInt8])
    case tuple([PickleValue])
    case list(PickleList)
    /// `dict` and `collections.OrderedDict` (insertion order kept).
    case dict(PickleDict)
    /// A global the host allowed, before it is called by `REDUCE`.
    case global(String)
    case object(Any)

    /// A short description for error messages.
    public var kind: String {
        switch self {
        case .none: return "None"
        case .bool: return "bool"
        case .int: return "int"
        case .float: return "float"
        case .string: return "str"
        case .bytes: return "bytes"
        case .tuple(let t): return "tuple of \(t.count)"
        case .list: return "list"
        case .dict: return "dict"
        case .global(let g): return g
        case .object(let o): return "\(type(of: o))"
        }
    }
}

/// Lists and dicts are references, as in Python: `APPEND`/`SETITEMS` after `BINPUT` must
/// change the memoised object too.
public final class PickleList {
    public var items: [PickleValue] = []
}

public final class PickleDict {
    public var items: [(key: PickleValue, value: PickleValue)] = []
    /// Attributes set by `BUILD` (an `OrderedDict`'s `_metadata`); not part of the mapping.
    public var attributes: [(key: PickleValue, value: PickleValue)] = []

    public subscript(key: String) -> PickleValue? {
        for (k, v) in items { if case .string(let s) = k, s == key { return v } }
        return nil
    }
}

/// A restricted pickle interpreter (protocols 2–5, the data subset): it never imports or calls
/// anything itself. `GLOBAL` names outside the host's allow-list, and every opcode that builds
/// arbitrary objects (`INST`, `OBJ`, `NEWOBJ`, extension registry, …), are errors naming them.
public enum Pickle {
    public struct Host {
        /// Qualified names (`module.name`) that `GLOBAL` may push.
        public var globals: Set<String>
        /// Called for `REDUCE` of an allowed global (other than `collections.OrderedDict`, built here).
        public var reduce: (_ global: String, _ args: [PickleValue]) throws -> PickleValue
        /// Called for `BINPERSID`.
        public var persistentLoad: (PickleValue) throws -> PickleValue
        /// Appended to the error for a refused global (what the user can do instead).
        public var refusalHint = ""

        public init(globals: Set<String>, reduce: @escaping (String, [PickleValue]) throws -> PickleValue,
                    persistentLoad: @escaping (PickleValue) throws -> PickleValue) {
            self.globals = globals
            self.reduce = reduce
            self.persistentLoad = persistentLoad
        }
    }

    static let orderedDict = "collections.OrderedDict"

    /// Names of the opcodes refused here, for clearer errors.
    static let refused: [UInt8: String] = [
        0x69: "INST", 0x6f: "OBJ", 0x81: "NEWOBJ", 0x92: "NEWOBJ_EX", 0x82: "EXT1", 0x83: "EXT2", 0x84: "EXT4",
        0x50: "PERSID", 0x49: "INT", 0x4c: "LONG", 0x46: "FLOAT", 0x53: "STRING", 0x56: "UNICODE", 0x70: "PUT", 0x67: "GET",
        0x55: "SHORT_BINSTRING", 0x54: "BINSTRING", 0x8f: "EMPTY_SET", 0x90: "ADDITEMS", 0x91: "FROZENSET",
        0x96: "BYTEARRAY8", 0x97: "NEXT_BUFFER", 0x98: "READONLY_BUFFER",
    ]

    /// Runs `bytes` to `STOP`; `source` names the data in errors (e.g. `file.pth:archive/data.pkl`).
    public static func load(_ bytes: [UInt8], source: String, host: Host) throws -> PickleValue {
        var pos = 0
        var stack: [PickleValue] = []
        var marks: [Int] = []
        var memo: [Int: PickleValue] = [:]

        func fail(_ why: String) -> TorchError { TorchError("\(source): \(why)") }
        func take(_ n: Int) throws -> ArraySlice<UInt8> {
            guard n >= 0, n <= bytes.count - pos else { throw fail("pickle data ends early at byte \(pos)") }
            defer { pos += n }
            return bytes[pos..<(pos + n)]
        }
        func uint(_ n: Int) throws -> Int {
            var v = 0
            for (i, b) in try take(n).enumerated() { v |= Int(b) << (8 * i) }
            return v
        }
        func line() throws -> String {
            guard let end = bytes[pos...].firstIndex(of: 0x0a) else { throw fail("pickle data ends inside a GLOBAL name") }
            defer { pos = end + 1 }
            return String(decoding: bytes[pos..<end], as: UTF8.self)
        }
        func pop() throws -> PickleValue {
            guard let v = stack.popLast() else { throw fail("pickle stack underflow at byte \(pos - 1)") }
            return v
        }
        func top() throws -> PickleValue {
            guard let v = stack.last else { throw fail("pickle stack empty at byte \(pos - 1)") }
            return v
        }
        func popMark() throws -> [PickleValue] {
            guard let m = marks.popLast(), m <= stack.count else { throw fail("pickle MARK missing at byte \(pos - 1)") }
            defer { stack.removeSubrange(m...) }
            return Array(stack[m...])
        }
        func utf8(_ n: Int) throws -> String {
            let raw = try take(n)
            guard let s = String(validating: raw, as: UTF8.self) else { throw fail("invalid UTF-8 string at byte \(pos - n)") }
            return s
        }
        func global(_ module: String, _ name: String, at: Int) throws -> PickleValue {
            let q = "\(module).\(name)"
            guard q == orderedDict || host.globals.contains(q) else {
                throw fail("refusing pickle GLOBAL '\(q)' at byte \(at): only PyTorch state-dict contents are read, never arbitrary objects"
                           + (host.refusalHint.isEmpty ? "" : "; \(host.refusalHint)"))
            }
            return .global(q)
        }
        func setItems(_ pairs: [PickleValue], into target: PickleValue) throws {
            guard case .dict(let d) = target else { throw fail("SETITEM(S) on a \(target.kind), not a dict") }
            guard pairs.count % 2 == 0 else { throw fail("SETITEMS with an odd number of values") }
            for i in stride(from: 0, to: pairs.count, by: 2) { d.items.append((pairs[i], pairs[i + 1])) }
        }

        while true {
            let at = pos
            let op = try take(1).first!
            switch op {
            case 0x80: _ = try take(1)  // PROTO
            case 0x95: _ = try take(8)  // FRAME
            case 0x2e: return try pop()  // STOP
            case 0x28: marks.append(stack.count)  // MARK
            case 0x30: _ = try pop()  // POP
            case 0x31: _ = try popMark()  // POP_MARK
            case 0x32: stack.append(try pop()); stack.append(stack.last!)  // DUP
            case 0x4e: stack.append(.none)
            case 0x88: stack.append(.bool(true))
            case 0x89: stack.append(.bool(false))
            case 0x4a: stack.append(.int(Int(Int32(truncatingIfNeeded: try uint(4)))))  // BININT
            case 0x4b: stack.append(.int(try uint(1)))  // BININT1
            case 0x4d: stack.append(.int(try uint(2)))  // BININT2
            case 0x8a, 0x8b:  // LONG1, LONG4: little-endian two's complement
                let n = op == 0x8a ? try uint(1) : try uint(4)
                guard n <= 8 else { throw fail("integer of \(n) bytes at byte \(at) does not fit 64 bits") }
                let raw = try take(n)
                var v: UInt64 = 0
                for (i, b) in raw.enumerated() { v |= UInt64(b) << (8 * UInt64(i)) }
                if n > 0 && n < 8 && raw.last! & 0x80 != 0 { v |= ~UInt64(0) << (8 * UInt64(n)) }
                stack.append(.int(Int(Int64(bitPattern: v))))
            case 0x47:  // BINFLOAT, big-endian
                var v: UInt64 = 0
                for b in try take(8) { v = v << 8 | UInt64(b) }
                stack.append(.float(Double(bitPattern: v)))
            case 0x58: stack.append(.string(try utf8(try uint(4))))  // BINUNICODE
            case 0x8c: stack.append(.string(try utf8(try uint(1))))  // SHORT_BINUNICODE
            case 0x8d: stack.append(.string(try utf8(try uint(8))))  // BINUNICODE8
            case 0x43: stack.append(.bytes(Array(try take(try uint(1)))))  // SHORT_BINBYTES
            case 0x42: stack.append(.bytes(Array(try take(try uint(4)))))  // BINBYTES
            case 0x8e: stack.append(.bytes(Array(try take(try uint(8)))))  // BINBYTES8
            case 0x29: stack.append(.tuple([]))
            case 0x74: stack.append(.tuple(try popMark()))
            case 0x85: stack.append(.tuple([try pop()]))
            case 0x86: let b = try pop(), a = try pop(); stack.append(.tuple([a, b]))
            case 0x87: let c = try pop(), b = try pop(), a = try pop(); stack.append(.tuple([a, b, c]))
            case 0x5d: stack.append(.list(PickleList()))  // EMPTY_LIST
            case 0x6c: let l = PickleList(); l.items = try popMark(); stack.append(.list(l))  // LIST
            case 0x61, 0x65:  // APPEND, APPENDS
                let items = op == 0x61 ? [try pop()] : try popMark()
                guard case .list(let l) = try pop() else { throw fail("APPEND at byte \(at) on something not a list") }
                l.items += items
                stack.append(.list(l))
            case 0x7d: stack.append(.dict(PickleDict()))  // EMPTY_DICT
            case 0x64:  // DICT
                let d = PickleDict()
                try setItems(try popMark(), into: .dict(d))
                stack.append(.dict(d))
            case 0x73:  // SETITEM
                let v = try pop(), k = try pop()
                try setItems([k, v], into: try top())
            case 0x75:  // SETITEMS
                let pairs = try popMark()
                try setItems(pairs, into: try top())
            case 0x63: let module = try line(); stack.append(try global(module, try line(), at: at))  // GLOBAL
            case 0x93:  // STACK_GLOBAL
                guard case .string(let name) = try pop(), case .string(let module) = try pop() else {
                    throw fail("STACK_GLOBAL at byte \(at) without two strings")
                }
                stack.append(try global(module, name, at: at))
            case 0x52:  // REDUCE
                let args = try pop(), callable = try pop()
                guard case .global(let g) = callable, case .tuple(let a) = args else {
                    throw fail("REDUCE at byte \(at) of \(callable.kind) with \(args.kind)")
                }
                if g == orderedDict {
                    guard a.isEmpty else { throw fail("OrderedDict built from arguments at byte \(at)") }
                    stack.append(.dict(PickleDict()))
                } else {
                    stack.append(try host.reduce(g, a))
                }
            case 0x62:  // BUILD: only an OrderedDict's attributes (`_metadata`)
                let state = try pop(), target = try top()
                guard case .dict(let d) = target, case .dict(let s) = state else {
                    throw fail("BUILD at byte \(at) on \(target.kind) with \(state.kind): only dict attributes are read")
                }
                d.attributes += s.items
            case 0x51: stack.append(try host.persistentLoad(try pop()))  // BINPERSID
            case 0x71: memo[try uint(1)] = try top()  // BINPUT
            case 0x72: memo[try uint(4)] = try top()  // LONG_BINPUT
            case 0x94: memo[memo.count] = try top()  // MEMOIZE
            case 0x68, 0x6a:  // BINGET, LONG_BINGET
                let k = op == 0x68 ? try uint(1) : try uint(4)
                guard let v = memo[k] else { throw fail("pickle memo \(k) read before it was written (byte \(at))") }
                stack.append(v)
            default:
                let name = refused[op].map { "\($0) (0x\(String(op, radix: 16)))" } ?? "0x\(String(op, radix: 16))"
                throw fail("unsupported pickle opcode \(name) at byte \(at): only the subset torch.save writes for tensors and containers is read")
            }
        }
    }
}
