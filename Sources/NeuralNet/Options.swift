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
/// marks its key as known, so `finish()` can reject misspelt or unsupported options by name.
public final class Options {
    /// What the options configure (used in messages), e.g. "unet2d".
    public let owner: String
    public private(set) var values: [String: ConfigValue]
    private var known: Set<String> = []

    public init(_ values: [String: ConfigValue] = [:], for owner: String) {
        self.values = values
        self.owner = owner
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

    func fail(_ key: String, _ what: String, _ got: ConfigValue) -> NeuralNetError {
        NeuralNetError("option '\(key)' of '\(owner)' must be \(what), got \(got)")
    }

    public func has(_ key: String) -> Bool {
        known.insert(key)
        if case .null = values[key] ?? .null { return false }
        return true
    }

    public func bool(_ key: String, default d: Bool) throws -> Bool {
        known.insert(key)
        switch values[key] {
        case nil, .null?: return d
        case .bool(let b)?: return b
        case let v?: throw fail(key, "true or false", v)
        }
    }

    public func double(_ key: String, default d: Double, requirement: String = "a number",
                       valid: (Double) -> Bool = { $0.isFinite }) throws -> Double {
        known.insert(key)
        switch values[key] {
        case nil, .null?: return d
        case .number(let x)? where x.isFinite && valid(x): return x
        case let v?: throw fail(key, requirement, v)
        }
    }

    public func int(_ key: String, default d: Int, requirement: String = "an integer",
                    valid: (Int) -> Bool = { _ in true }) throws -> Int {
        known.insert(key)
        switch values[key] {
        case nil, .null?: return d
        case .number(let x)? where x.rounded() == x && Swift.abs(x) < 1e15 && valid(Int(x)): return Int(x)
        case let v?: throw fail(key, requirement, v)
        }
    }

    public func string(_ key: String, default d: String, allowed: [String]) throws -> String {
        known.insert(key)
        switch values[key] {
        case nil, .null?: return d
        case .string(let s)? where allowed.contains(s): return s
        case let v?: throw fail(key, "one of " + allowed.joined(separator: ", "), v)
        }
    }

    /// Any string (no fixed set of choices).
    public func string(_ key: String, default d: String) throws -> String {
        known.insert(key)
        switch values[key] {
        case nil, .null?: return d
        case .string(let s)?: return s
        case let v?: throw fail(key, "a string", v)
        }
    }

    /// A list of integers; a single integer is accepted as a list of one.
    public func ints(_ key: String, default d: [Int], requirement: String = "a list of integers",
                     valid: (Int) -> Bool = { _ in true }) throws -> [Int] {
        known.insert(key)
        switch values[key] {
        case nil, .null?: return d
        case .number(let x)? where x.rounded() == x && valid(Int(x)): return [Int(x)]
        case .array(let a)?:
            var out: [Int] = []
            for e in a {
                guard case .number(let x) = e, x.rounded() == x, valid(Int(x)) else { throw fail(key, requirement, .array(a)) }
                out.append(Int(x))
            }
            return out
        case let v?: throw fail(key, requirement, v)
        }
    }

    public func optionalBool(_ key: String) throws -> Bool? {
        known.insert(key)
        switch values[key] {
        case nil, .null?: return nil
        case .bool(let b)?: return b
        case let v?: throw fail(key, "true or false", v)
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
        case .array(let a)?:
            var out: [Double] = []
            for e in a {
                guard case .number(let x) = e, x.isFinite, valid(x) else { throw fail(key, requirement, .array(a)) }
                out.append(x)
            }
            return out
        case let v?: throw fail(key, requirement, v)
        }
    }

    /// Rejects every option no reader asked for, naming it and the known ones.
    public func finish() throws {
        let unknown = values.keys.filter { !known.contains($0) }.sorted()
        guard unknown.isEmpty else {
            let list = unknown.map { "'\($0)'" }.joined(separator: ", ")
            throw NeuralNetError("unknown option\(unknown.count > 1 ? "s" : "") \(list) for '\(owner)'; "
                                 + "known options: \(known.sorted().joined(separator: ", "))")
        }
    }
}
