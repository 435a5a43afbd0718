import FoundationEssentials

/// A configuration value as written in YAML or JSON.
public enum ConfigValue: Equatable, Sendable, Codable, CustomStringConvertible {
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([ConfigValue])
    case object([String: ConfigValue])
    case null

    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null }
        else if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let d = try? c.decode(Double.self) { self = .number(d) }
        else if let s = try? c.decode(String.self) { self = .string(s) }
        else if let a = try? c.decode([ConfigValue].self) { self = .array(a) }
        else { self = .object(try c.decode([String: ConfigValue].self)) }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .bool(let b): try c.encode(b)
        case .number(let d):
            if d.rounded() == d && Swift.abs(d) < 1e15 { try c.encode(Int(d)) } else { try c.encode(d) }
        case .string(let s): try c.encode(s)
        case .array(let a): try c.encode(a)
        case .object(let o): try c.encode(o)
        case .null: try c.encodeNil()
        }
    }

    public var description: String {
        switch self {
        case .bool(let b): return "\(b)"
        case .number(let d): return d.rounded() == d && Swift.abs(d) < 1e15 ? "\(Int(d))" : "\(d)"
        case .string(let s): return "\"\(s)\""
        case .array(let a): return "[" + a.map(\.description).joined(separator: ", ") + "]"
        case .object(let o): return "{" + o.keys.sorted().map { "\($0): \(o[$0]!)" }.joined(separator: ", ") + "}"
        case .null: return "null"
        }
    }
}

/// Typed, checked reading of a component's options (a model's, an objective's). Every read
/// marks its key as known, so `finish()` can reject misspelt or unsupported options by name,
/// and records the value it resolved to (the default when absent), so `resolved` shows what ran.
public final class Options {
    /// What the options configure (used in messages), e.g. "unet2d".
    public let owner: String
    /// Where these options sit in a configuration (`data`, `objectives[0].options`); when set,
    /// messages name keys by their full path (`data.batchSize must be …`).
    public let path: String?
    public private(set) var values: [String: ConfigValue]
    private var known: Set<String> = []
    private var read: [String: ConfigValue] = [:]

    public init(_ values: [String: ConfigValue] = [:], for owner: String, path: String? = nil) {
        self.values = values
        self.owner = owner
        self.path = path
    }

    /// Options from a JSON object such as `{"depth": 4}`.
    public convenience init(json: String, for owner: String) throws {
        let text = json.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !text.isEmpty else { self.init([:], for: owner); return }
        do {
            self.init(try JSONDecoder().decode([String: ConfigValue].self, from: Data(text.utf8)), for: owner)
        } catch {
            throw NeuralNetError("options for '\(owner)' must be a JSON object, e.g. {\"depth\": 4}: \(error)")
        }
    }

    /// The options as given, plus every default a reader returned: the complete settings that
    /// ran, for saving. Reading them back resolves to the same values.
    public var resolved: [String: ConfigValue] { values.merging(read) { _, r in r } }

    /// The key as messages name it: `data.batchSize`, or `option 'depth' of 'unet2d'`.
    public func subject(_ key: String) -> String {
        path.map { "\($0).\(key)" } ?? "option '\(key)' of '\(owner)'"
    }

    /// A value of the wrong kind (`kind` is "an integer", "a number", …; `requirement` may
    /// already name the kind, "a number ≥ 0", or only the range, "≥ 1").
    func typeError(_ key: String, _ kind: String, _ requirement: String?, _ got: ConfigValue) -> OptionError {
        var what = kind
        if let r = requirement, r != kind {
            what = Self.namesKind(r) ? r : "\(kind) \(r)"
        }
        return OptionError(key: path.map { "\($0).\(key)" } ?? key, "\(subject(key)) must be \(what), got \(got.phrase)")
    }

    /// A value of the right kind outside the allowed range.
    func rangeError(_ key: String, _ requirement: String, _ got: ConfigValue) -> OptionError {
        OptionError(key: path.map { "\($0).\(key)" } ?? key, "\(subject(key)) must be \(requirement), got \(got.phrase)")
    }

    static func namesKind(_ requirement: String) -> Bool {
        ["a ", "an ", "one of", "two ", "true or false"].contains { requirement.hasPrefix($0) }
    }

    public func has(_ key: String) -> Bool {
        known.insert(key)
        if case .null = values[key] ?? .null { return false }
        return true
    }

    public func bool(_ key: String, default d: Bool) throws -> Bool {
        known.insert(key)
        switch values[key] {
        case nil, .null?: read[key] = .bool(d); return d
        case .bool(let b)?: return b
        case let v?: throw typeError(key, "true or false", nil, v)
        }
    }

    public func double(_ key: String, default d: Double, requirement: String = "a number",
                       valid: (Double) -> Bool = { $0.isFinite }) throws -> Double {
        known.insert(key)
        switch values[key] {
        case nil, .null?: read[key] = .number(d); return d
        case .number(let x)? where x.isFinite && valid(x): return x
        case .number(let x)?: throw rangeError(key, requirement, .number(x))
        case let v?: throw typeError(key, "a number", requirement, v)
        }
    }

    public func int(_ key: String, default d: Int, requirement: String = "an integer",
                    valid: (Int) -> Bool = { _ in true }) throws -> Int {
        known.insert(key)
        switch values[key] {
        case nil, .null?: read[key] = .number(Double(d)); return d
        case .number(let x)? where Self.isInteger(x):
            guard valid(Int(x)) else { throw rangeError(key, requirement, .number(x)) }
            return Int(x)
        case let v?: throw typeError(key, "an integer", requirement, v)
        }
    }

    public func string(_ key: String, default d: String, allowed: [String]) throws -> String {
        known.insert(key)
        let what = "one of " + allowed.joined(separator: ", ")
        switch values[key] {
        case nil, .null?: read[key] = .string(d); return d
        case .string(let s)? where allowed.contains(s): return s
        case .string(let s)?: throw rangeError(key, what, .string(s))
        case let v?: throw typeError(key, "a string", what, v)
        }
    }

    /// Any string (no fixed set of choices).
    public func string(_ key: String, default d: String) throws -> String {
        known.insert(key)
        switch values[key] {
        case nil, .null?: read[key] = .string(d); return d
        case .string(let s)?: return s
        case let v?: throw typeError(key, "a string", nil, v)
        }
    }

    /// A list of integers; a single integer is accepted as a list of one.
    public func ints(_ key: String, default d: [Int], requirement: String = "a list of integers",
                     valid: (Int) -> Bool = { _ in true }) throws -> [Int] {
        known.insert(key)
        switch values[key] {
        case nil, .null?: read[key] = .array(d.map { .number(Double($0)) }); return d
        case .number(let x)? where Self.isInteger(x):
            guard valid(Int(x)) else { throw rangeError(key, requirement, .number(x)) }
            read[key] = .array([.number(x)])
            return [Int(x)]
        case .array(let a)?:
            var out: [Int] = []
            for (i, e) in a.enumerated() {
                guard case .number(let x) = e, Self.isInteger(x) else {
                    throw OptionError(key: (path.map { "\($0).\(key)" } ?? key) + "[\(i)]",
                                      "\(subject(key)) must be \(requirement), but element \(i) is \(e.phrase), not an integer")
                }
                guard valid(Int(x)) else { throw rangeError(key, requirement, .array(a)) }
                out.append(Int(x))
            }
            return out
        case let v?: throw typeError(key, "a list of integers", requirement, v)
        }
    }

    /// A list of integer lists (`[[1, 2, 2], [2, 2, 2]]`), each `length` long; nil when absent.
    public func optionalIntLists(_ key: String, length: Int) throws -> [[Int]]? {
        known.insert(key)
        switch values[key] {
        case nil, .null?: return nil
        case .array(let rows)?:
            return try rows.enumerated().map { i, row in
                guard case .array(let items) = row, items.count == length,
                      let ints = Optional(items.compactMap { v -> Int? in
                          if case .number(let x) = v, Self.isInteger(x), x >= 1 { return Int(x) }
                          return nil
                      }), ints.count == length else {
                    throw OptionError(key: (path.map { "\($0).\(key)" } ?? key) + "[\(i)]",
                                      "\(subject(key)) must be a list of \(length)-element lists of positive integers, but element \(i) is \(row.phrase)")
                }
                return ints
            }
        case let v?: throw typeError(key, "a list of lists of integers", nil, v)
        }
    }

    public func optionalBool(_ key: String) throws -> Bool? {
        known.insert(key)
        switch values[key] {
        case nil, .null?: return nil
        case .bool(let b)?: return b
        case let v?: throw typeError(key, "true or false", nil, v)
        }
    }

    public func optionalDouble(_ key: String, requirement: String = "a number",
                               valid: (Double) -> Bool = { $0.isFinite }) throws -> Double? {
        has(key) ? try double(key, default: 0, requirement: requirement, valid: valid) : nil
    }

    public func optionalInt(_ key: String, requirement: String = "an integer",
                            valid: (Int) -> Bool = { _ in true }) throws -> Int? {
        has(key) ? try int(key, default: 0, requirement: requirement, valid: valid) : nil
    }

    /// A list of numbers; a single number is accepted as a list of one.
    public func doubles(_ key: String, requirement: String = "a list of numbers",
                        valid: (Double) -> Bool = { $0.isFinite }) throws -> [Double]? {
        known.insert(key)
        switch values[key] {
        case nil, .null?: return nil
        case .number(let x)? where x.isFinite && valid(x): return [x]
        case .number(let x)?: throw rangeError(key, requirement, .number(x))
        case .array(let a)?:
            var out: [Double] = []
            for (i, e) in a.enumerated() {
                guard case .number(let x) = e else {
                    throw OptionError(key: (path.map { "\($0).\(key)" } ?? key) + "[\(i)]",
                                      "\(subject(key)) must be \(requirement), but element \(i) is \(e.phrase), not a number")
                }
                guard x.isFinite, valid(x) else { throw rangeError(key, requirement, .array(a)) }
                out.append(x)
            }
            return out
        case let v?: throw typeError(key, "a list of numbers", requirement, v)
        }
    }

    /// Rejects every option no reader asked for, naming it and the known ones.
    public func finish() throws {
        let unknown = values.keys.filter { !known.contains($0) }.sorted()
        guard let first = unknown.first else { return }
        let list = unknown.map { "'\($0)'" }.joined(separator: ", ")
        let s = unknown.count > 1 ? "s" : ""
        let message = path.map { "unknown key\(s) \(list) in \($0)" } ?? "unknown option\(s) \(list) for '\(owner)'"
        throw OptionError(key: path.map { "\($0).\(first)" } ?? first, message + "; known: \(known.sorted().joined(separator: ", "))")
    }

    static func isInteger(_ x: Double) -> Bool { x.isFinite && x.rounded() == x && Swift.abs(x) < 1e15 }
}

extension ConfigValue {
    /// The value as a message quotes it, with its kind where that is the point
    /// (`the string "two"`, `a list [1, 2]`).
    public var phrase: String {
        switch self {
        case .string: return "the string \(description)"
        case .array: return "the list \(description)"
        case .object: return "the mapping \(description)"
        case .bool, .number, .null: return description
        }
    }
}
