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
    /// Nesting depth (1 + the deepest item's), bounded by `Pickle.maximumDepth`.
    var depth = 1
}

public final class PickleDict {
    public var items: [(key: PickleValue, value: PickleValue)] = []
    /// Attributes set by `BUILD` (an `OrderedDict`'s `_metadata`); not part of the mapping.
    public var attributes: [(key: PickleValue, value: PickleValue)] = []
    /// Nesting depth (1 + the deepest item's), bounded by `Pickle.maximumDepth`.
    var depth = 1

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
    /// Containers nested deeper are refused: values are released recursively, so a pickle of 10⁶
    /// nested tuples would overflow the stack. A state dict nests 4 deep.
    static let maximumDepth = 1000

    /// Names of the opcodes refused here, for clearer errors.
    static let refused: [UInt8: String] = [
        0x69: "INST", 0x6f: "OBJ", 0x81: "NEWOBJ", 0x92: "NEWOBJ_EX", 0x82: "EXT1", 0x83: "EXT2", 0x84: "EXT4",
        0x50: "PERSID", 0x49: "INT", 0x4c: "LONG", 0x46: "FLOAT", 0x53: "STRING", 0x56: "UNICODE", 0x70: "PUT", 0x67: "GET",
        0x55: "SHORT_BINSTRING", 0x54: "BINSTRING", 0x8f: "EMPTY_SET", 0x90: "ADDITEMS", 0x91: "FROZENSET",
        0x96: "BYTEARRAY8", 0x97: "NEXT_BUFFER", 0x98: "READONLY_BUFFER",
    ]

    /// Runs `bytes` to `STOP` and hands the result to `consume`; afterwards every list and dict the
    /// pickle built is emptied, so the reference cycles a pickle can build (a list appended to itself
    /// through the memo) are not leaked. `source` names the data in errors (e.g. `file.pth:archive/data.pkl`).
    public static func load<T>(_ bytes: [UInt8], source: String, host: Host, consume: (PickleValue) throws -> T) throws -> T {
        let made = Containers()
        defer { made.empty() }
        return try consume(try load(bytes, source: source, host: host, made: made))
    }

    /// Runs `bytes` to `STOP`. The result may hold reference cycles if the pickle built them; `load(_:source:host:consume:)` breaks them.
    public static func load(_ bytes: [UInt8], source: String, host: Host) throws -> PickleValue {
        try load(bytes, source: source, host: host, made: Containers())
    }

    /// The lists and dicts one pickle built.
    final class Containers {
        var lists: [PickleList] = []
        var dicts: [PickleDict] = []
        func list() -> PickleList { let l = PickleList(); lists.append(l); return l }
        func dict() -> PickleDict { let d = PickleDict(); dicts.append(d); return d }
        func empty() {
            for l in lists { l.items = [] }
            for d in dicts { d.items = []; d.attributes = [] }
        }
    }

    static func load(_ bytes: [UInt8], source: String, host: Host, made: Containers) throws -> PickleValue {
        var pos = 0
        var stack: [PickleValue] = []
        // The nesting depth of each stack entry (lists and dicts keep theirs, which APPEND/SETITEM raise).
        var depths: [Int] = []
        var marks: [Int] = []
        var memo: [Int: (PickleValue, Int)] = [:]

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
        func depth(_ v: PickleValue, _ stored: Int) -> Int {
            switch v {
            case .list(let l): return l.depth
            case .dict(let d): return d.depth
            default: return stored
            }
        }
        func checked(_ d: Int) throws -> Int {
            guard d <= maximumDepth else { throw fail("containers nested more than \(maximumDepth) deep at byte \(pos - 1)") }
            return d
        }
        func push(_ v: PickleValue, depth d: Int = 0) {
            stack.append(v)
            depths.append(d)
        }
        /// A new tuple, list or dict holding `items`: one deeper than the deepest of them.
        func wrap(_ items: [(PickleValue, Int)]) throws -> Int { try checked(1 + (items.map { depth($0.0, $0.1) }.max() ?? 0)) }
        func popEntry() throws -> (PickleValue, Int) {
            guard let v = stack.popLast(), let d = depths.popLast() else { throw fail("pickle stack underflow at byte \(pos - 1)") }
            return (v, d)
        }
        func pop() throws -> PickleValue { try popEntry().0 }
        func top() throws -> PickleValue {
            guard let v = stack.last else { throw fail("pickle stack empty at byte \(pos - 1)") }
            return v
        }
        func topEntry() throws -> (PickleValue, Int) {
            guard let v = stack.last, let d = depths.last else { throw fail("pickle stack empty at byte \(pos - 1)") }
            return (v, d)
        }
        func popMarkEntries() throws -> [(PickleValue, Int)] {
            guard let m = marks.popLast(), m <= stack.count else { throw fail("pickle MARK missing at byte \(pos - 1)") }
            defer { stack.removeSubrange(m...); depths.removeSubrange(m...) }
            return Array(zip(stack[m...], depths[m...]))
        }
        func popMark() throws -> [PickleValue] { try popMarkEntries().map(\.0) }
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
        func setItems(_ pairs: [(PickleValue, Int)], into target: PickleValue) throws {
            guard case .dict(let d) = target else { throw fail("SETITEM(S) on a \(target.kind), not a dict") }
            guard pairs.count % 2 == 0 else { throw fail("SETITEMS with an odd number of values") }
            d.depth = Swift.max(d.depth, try wrap(pairs))
            for i in stride(from: 0, to: pairs.count, by: 2) { d.items.append((pairs[i].0, pairs[i + 1].0)) }
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
            case 0x32: let (v, d) = try topEntry(); push(v, depth: d)  // DUP
            case 0x4e: push(.none)
            case 0x88: push(.bool(true))
            case 0x89: push(.bool(false))
            case 0x4a: push(.int(Int(Int32(truncatingIfNeeded: try uint(4)))))  // BININT
            case 0x4b: push(.int(try uint(1)))  // BININT1
            case 0x4d: push(.int(try uint(2)))  // BININT2
            case 0x8a, 0x8b:  // LONG1, LONG4: little-endian two's complement
                let n = op == 0x8a ? try uint(1) : try uint(4)
                guard n <= 8 else { throw fail("integer of \(n) bytes at byte \(at) does not fit 64 bits") }
                let raw = try take(n)
                var v: UInt64 = 0
                for (i, b) in raw.enumerated() { v |= UInt64(b) << (8 * UInt64(i)) }
                if n > 0 && n < 8 && raw.last! & 0x80 != 0 { v |= ~UInt64(0) << (8 * UInt64(n)) }
                push(.int(Int(Int64(bitPattern: v))))
            case 0x47:  // BINFLOAT, big-endian
                var v: UInt64 = 0
                for b in try take(8) { v = v << 8 | UInt64(b) }
                push(.float(Double(bitPattern: v)))
            case 0x58: push(.string(try utf8(try uint(4))))  // BINUNICODE
            case 0x8c: push(.string(try utf8(try uint(1))))  // SHORT_BINUNICODE
            case 0x8d: push(.string(try utf8(try uint(8))))  // BINUNICODE8
            case 0x43: push(.bytes(Array(try take(try uint(1)))))  // SHORT_BINBYTES
            case 0x42: push(.bytes(Array(try take(try uint(4)))))  // BINBYTES
            case 0x8e: push(.bytes(Array(try take(try uint(8)))))  // BINBYTES8
            case 0x29: push(.tuple([]), depth: 1)
            case 0x74: let items = try popMarkEntries(); push(.tuple(items.map(\.0)), depth: try wrap(items))
            case 0x85: let a = try popEntry(); push(.tuple([a.0]), depth: try wrap([a]))
            case 0x86: let b = try popEntry(), a = try popEntry(); push(.tuple([a.0, b.0]), depth: try wrap([a, b]))
            case 0x87: let c = try popEntry(), b = try popEntry(), a = try popEntry(); push(.tuple([a.0, b.0, c.0]), depth: try wrap([a, b, c]))
            case 0x5d: push(.list(made.list()))  // EMPTY_LIST
            case 0x6c: let l = made.list(), items = try popMarkEntries(); l.depth = try wrap(items); l.items = items.map(\.0); push(.list(l))  // LIST
            case 0x61, 0x65:  // APPEND, APPENDS
                let items = op == 0x61 ? [try popEntry()] : try popMarkEntries()
                guard case .list(let l) = try pop() else { throw fail("APPEND at byte \(at) on something not a list") }
                l.depth = Swift.max(l.depth, try wrap(items))
                l.items += items.map(\.0)
                push(.list(l))
            case 0x7d: push(.dict(made.dict()))  // EMPTY_DICT
            case 0x64:  // DICT
                let d = made.dict()
                try setItems(try popMarkEntries(), into: .dict(d))
                push(.dict(d))
            case 0x73:  // SETITEM
                let v = try popEntry(), k = try popEntry()
                try setItems([k, v], into: try top())
            case 0x75:  // SETITEMS
                let pairs = try popMarkEntries()
                try setItems(pairs, into: try top())
            case 0x63: let module = try line(); push(try global(module, try line(), at: at))  // GLOBAL
            case 0x93:  // STACK_GLOBAL
                guard case .string(let name) = try pop(), case .string(let module) = try pop() else {
                    throw fail("STACK_GLOBAL at byte \(at) without two strings")
                }
                push(try global(module, name, at: at))
            case 0x52:  // REDUCE
                let args = try pop(), callable = try pop()
                guard case .global(let g) = callable, case .tuple(let a) = args else {
                    throw fail("REDUCE at byte \(at) of \(callable.kind) with \(args.kind)")
                }
                if g == orderedDict {
                    guard a.isEmpty else { throw fail("OrderedDict built from arguments at byte \(at)") }
                    push(.dict(made.dict()))
                } else {
                    push(try host.reduce(g, a))
                }
            case 0x62:  // BUILD: only an OrderedDict's attributes (`_metadata`)
                let (state, stateDepth) = try popEntry(), target = try top()
                guard case .dict(let d) = target, case .dict(let s) = state else {
                    throw fail("BUILD at byte \(at) on \(target.kind) with \(state.kind): only dict attributes are read")
                }
                d.depth = Swift.max(d.depth, try wrap([(state, stateDepth)]))
                d.attributes += s.items
            case 0x51: push(try host.persistentLoad(try pop()))  // BINPERSID
            case 0x71: memo[try uint(1)] = try topEntry()  // BINPUT
            case 0x72: memo[try uint(4)] = try topEntry()  // LONG_BINPUT
            case 0x94: memo[memo.count] = try topEntry()  // MEMOIZE
            case 0x68, 0x6a:  // BINGET, LONG_BINGET
                let k = op == 0x68 ? try uint(1) : try uint(4)
                guard let entry = memo[k] else { throw fail("pickle memo \(k) read before it was written (byte \(at))") }
                push(entry.0, depth: entry.1)
            default:
                let name = refused[op].map { "\($0) (0x\(String(op, radix: 16)))" } ?? "0x\(String(op, radix: 16))"
                throw fail("unsupported pickle opcode \(name) at byte \(at): only the subset torch.save writes for tensors and containers is read")
            }
        }
    }
}
