import Foundation
import NeuralNet
import Yams

/// Writes a configuration tree as YAML that Yams and YAML 1.1 readers (PyYAML's `safe_load`)
/// both read as the same values. PyYAML takes `1e-2` for a string: its floats need a dot and a
/// signed exponent, so floats are written `0.01`, `3.0e-05`, `1.0e+20`; integers as integers.
enum ConfigYAML {
    /// Fields that are floats even when their value is whole (`gradientClip: 12.0`), as key
    /// paths with `[]` for any list element; a stage's overrides use the same paths.
    static let floatKeys: Set<String> = [
        "data.foregroundOversampling", "data.heatmap.sigma", "data.heatmap.scale", "evaluation.sdrRadii[]",
        "objectives[].weight",
        "optimizer.learningRate", "optimizer.weightDecay", "optimizer.momentum", "optimizer.gradientClip",
        "optimizer.groups[].learningRate", "optimizer.groups[].weightDecay",
        "optimizer.plateau.factor", "optimizer.plateau.threshold", "optimizer.plateau.minLearningRate",
    ]

    static func text(_ tree: [String: ConfigValue]) throws -> String {
        try Yams.serialize(node: node(.object(tree), at: ""), sortKeys: true)
    }

    static func node(_ value: ConfigValue, at path: String) -> Node {
        switch value {
        case .null: return Node("null", Tag(.null))
        case .bool(let b): return Node(b ? "true" : "false", Tag(.bool))
        case .string(let s): return .scalar(s.represented())
        case .number(let d):
            let asFloat = isFloat(path) || !(d.isFinite && d.rounded() == d && Swift.abs(d) < 1e15)
            return asFloat ? Node(float(d), Tag(.float)) : Node(String(Int(d)), Tag(.int))
        case .array(let a):
            return Node(a.map { node($0, at: path + "[]") })
        case .object(let o):
            return Node(o.keys.sorted().map { k in (Node.scalar(k.represented()), node(o[k]!, at: path.isEmpty ? k : "\(path).\(k)")) })
        }
    }

    static func isFloat(_ path: String) -> Bool {
        if floatKeys.contains(path) { return true }
        // stages[].optimizer.learningRate is optimizer.learningRate of that stage.
        let stage = "stages[]."
        return path.hasPrefix(stage) && floatKeys.contains(String(path.dropFirst(stage.count)))
    }

    /// The shortest text that reads back as `d`, with a dot and, in exponent form, a signed
    /// exponent (`3.0e-05`); `.inf`, `-.inf` and `.nan` as YAML spells them.
    static func float(_ d: Double) -> String {
        if d.isNaN { return ".nan" }
        if d.isInfinite { return d < 0 ? "-.inf" : ".inf" }
        let text = "\(d)"
        guard let e = text.firstIndex(where: { $0 == "e" || $0 == "E" }) else {
            return text.contains(".") ? text : text + ".0"
        }
        var mantissa = String(text[..<e])
        var exponent = String(text[text.index(after: e)...])
        if !mantissa.contains(".") { mantissa += ".0" }
        if !exponent.hasPrefix("-") && !exponent.hasPrefix("+") { exponent = "+" + exponent }
        return mantissa + "e" + exponent
    }
}
