import Foundation
import Torch

/// One option value as written in JSON configuration.
public enum OptionValue: Equatable, Sendable, Decodable, CustomStringConvertible {
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([OptionValue])
    case object([String: OptionValue])
    case null

    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null }
        else if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let d = try? c.decode(Double.self) { self = .number(d) }
        else if let s = try? c.decode(String.self) { self = .string(s) }
        else if let a = try? c.decode([OptionValue].self) { self = .array(a) }
        else { self = .object(try c.decode([String: OptionValue].self)) }
    }

    public var description: String {
        switch self {
        case .bool(let b): return "\(b)"
        case .number(let d): return "\(d)"
        case .string(let s): return "\"\(s)\""
        case .array(let a): return "[" + a.map(\.description).joined(separator: ", ") + "]"
        case .object(let o): return "{" + o.keys.sorted().map { "\($0): \(o[$0]!)" }.joined(separator: ", ") + "}"
        case .null: return "null"
        }
    }
}

/// Typed, checked access to an objective's options. Every read marks the key as known, so
/// `finish()` can reject misspelt or unsupported options by name.
public final class ObjectiveOptions {
    /// The objective the options are for (used in messages).
    public let objective: String
    public private(set) var values: [String: OptionValue]
    private var known: Set<String> = []

    public init(_ values: [String: OptionValue] = [:], for objective: String) {
        self.values = values
        self.objective = objective
    }

    /// Options from a JSON object such as `{"k": 5, "includeBackground": false}`.
    public convenience init(json: String, for objective: String) throws {
        let text = json.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !text.isEmpty else { self.init([:], for: objective); return }
        do {
            let v = try JSONDecoder().decode([String: OptionValue].self, from: Data(text.utf8))
            self.init(v, for: objective)
        } catch {
            throw ObjectiveError("options for '\(objective)' must be a JSON object, e.g. {\"k\": 3}: \(error)")
        }
    }

    private func fail(_ key: String, _ what: String, _ got: OptionValue) -> ObjectiveError {
        ObjectiveError("option '\(key)' of '\(objective)' must be \(what), got \(got)")
    }

    public func has(_ key: String) -> Bool {
        known.insert(key)
        if case .null = values[key] ?? .null { return false }
        return true
    }

    public func bool(_ key: String, default d: Bool) throws -> Bool {
        try optionalBool(key) ?? d
    }

    public func optionalBool(_ key: String) throws -> Bool? {
        known.insert(key)
        switch values[key] {
        case nil, .null?: return nil
        case .bool(let b)?: return b
        case let v?: throw fail(key, "true or false", v)
        }
    }

    /// A number, checked against `valid` (described by `requirement` in the error).
    public func double(_ key: String, default d: Double, requirement: String = "a number",
                       valid: (Double) -> Bool = { $0.isFinite }) throws -> Double {
        try optionalDouble(key, requirement: requirement, valid: valid) ?? d
    }

    public func optionalDouble(_ key: String, requirement: String = "a number",
                               valid: (Double) -> Bool = { $0.isFinite }) throws -> Double? {
        known.insert(key)
        switch values[key] {
        case nil, .null?: return nil
        case .number(let x)? where x.isFinite && valid(x): return x
        case let v?: throw fail(key, requirement, v)
        }
    }

    public func int(_ key: String, default d: Int, requirement: String = "an integer",
                    valid: (Int) -> Bool = { _ in true }) throws -> Int {
        try optionalInt(key, requirement: requirement, valid: valid) ?? d
    }

    public func optionalInt(_ key: String, requirement: String = "an integer",
                            valid: (Int) -> Bool = { _ in true }) throws -> Int? {
        known.insert(key)
        switch values[key] {
        case nil, .null?: return nil
        case .number(let x)? where x.isFinite && x.rounded() == x && Swift.abs(x) < 1e15 && valid(Int(x)): return Int(x)
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

    /// MONAI's `reduction`: none, mean or sum.
    public func reduction(default d: Reduction = .mean) throws -> Reduction {
        let s = try string("reduction", default: "\(d)", allowed: ["none", "mean", "sum"])
        return try Reduction(parsing: s)
    }

    /// Rejects every option that no reader asked for, naming it and the known ones.
    public func finish() throws {
        let unknown = values.keys.filter { !known.contains($0) }.sorted()
        guard unknown.isEmpty else {
            let list = unknown.map { "'\($0)'" }.joined(separator: ", ")
            throw ObjectiveError("unknown option\(unknown.count > 1 ? "s" : "") \(list) for '\(objective)'; "
                                 + "known options: \(known.sorted().joined(separator: ", "))")
        }
    }
}
