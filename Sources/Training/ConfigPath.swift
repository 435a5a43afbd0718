import Foundation
import NeuralNet
import Yams

/// A key path into a configuration: `objectives[0].weight`, `objectives.0.weight` (the same),
/// `optimizer.groups[1].learningRate`. `--set` writes through one; errors point at one.
struct ConfigPath: Equatable, CustomStringConvertible {
    enum Step: Equatable {
        case key(String)
        /// A list element; `.0` and `[0]` both parse to this.
        case index(Int)
    }

    var steps: [Step]

    init(_ steps: [Step]) { self.steps = steps }

    /// Parses `a.b[0].c` / `a.b.0.c`; nil for an empty or malformed path.
    init?(parsing text: String) {
        var steps: [Step] = []
        for part in text.split(separator: ".", omittingEmptySubsequences: false) {
            var rest = Substring(part)
            guard !rest.isEmpty else { return nil }
            if let open = rest.firstIndex(of: "[") {
                if open > rest.startIndex { steps.append(Self.step(rest[..<open])) }
                rest = rest[open...]
                while !rest.isEmpty {
                    guard rest.first == "[", let close = rest.firstIndex(of: "]"),
                          let i = Int(rest[rest.index(after: rest.startIndex)..<close]), i >= 0 else { return nil }
                    steps.append(.index(i))
                    rest = rest[rest.index(after: close)...]
                }
            } else {
                steps.append(Self.step(rest))
            }
        }
        guard case .key? = steps.first else { return nil }
        self.steps = steps
    }

    private static func step(_ s: Substring) -> Step {
        if let i = Int(s), i >= 0, s.allSatisfy(\.isNumber) { return .index(i) }
        return .key(String(s))
    }

    var description: String {
        var out = ""
        for s in steps {
            switch s {
            case .key(let k): out += out.isEmpty ? k : ".\(k)"
            case .index(let i): out += "[\(i)]"
            }
        }
        return out
    }

    /// Whether `other` is this path or lies inside it.
    func contains(_ other: ConfigPath) -> Bool {
        other.steps.count >= steps.count && Array(other.steps.prefix(steps.count)) == steps
    }

    /// The line a path's key is written on in a YAML document (the deepest part of the path
    /// the document has), or nil when not even its first key is there.
    func line(in node: Node) -> Int? {
        var current = node
        var line: Int?
        for s in steps {
            switch s {
            case .key(let k):
                guard let pair = current.mapping?.filter({ $0.key.string == k }).last else { return line }
                line = pair.key.mark?.line ?? line
                current = pair.value
            case .index(let i):
                guard let seq = current.sequence, i < seq.count else { return line }
                current = seq[i]
                line = current.mark?.line ?? line
            }
        }
        return line
    }
}

extension ConfigValue {
    /// What a value is, for messages ("a number", "a list").
    var kindName: String {
        switch self {
        case .bool: return "true/false"
        case .number: return "a number"
        case .string: return "a string"
        case .array: return "a list"
        case .object: return "a mapping"
        case .null: return "empty"
        }
    }

    /// Writes `value` at `path[from...]` inside this value. `expand` turns a value that a path
    /// walks into (a shorthand such as `objectives: cedice`) into its long form first.
    mutating func set(_ path: ConfigPath, from start: Int, to value: ConfigValue,
                      expand: (ConfigPath, ConfigValue) throws -> ConfigValue?) throws {
        guard start < path.steps.count else { self = value; return }
        let here = ConfigPath(Array(path.steps.prefix(start)))
        if start > 0, let long = try expand(here, self) { self = long }
        switch path.steps[start] {
        case .key(let k):
            var o: [String: ConfigValue]
            switch self {
            case .object(let m): o = m
            case .null: o = [:]
            default:
                throw OptionError(key: here.description,
                                  "\(here) is \(kindName), not a mapping, so it has no key '\(k)'")
            }
            var child = o[k] ?? .null
            try child.set(path, from: start + 1, to: value, expand: expand)
            o[k] = child
            self = .object(o)
        case .index(let i):
            guard case .array(var a) = self else {
                let what = self == .null ? "is not set" : "is \(kindName), not a list"
                throw OptionError(key: here.description, "\(here) \(what), so it has no element \(i)")
            }
            guard i < a.count else {
                throw OptionError(key: here.description,
                                  "\(here) has \(a.count) element\(a.count == 1 ? "" : "s")"
                                  + (a.isEmpty ? "" : " (indices 0 to \(a.count - 1))") + ", so there is no element \(i)")
            }
            try a[i].set(path, from: start + 1, to: value, expand: expand)
            self = .array(a)
        }
    }
}
