import ArgumentParser
import Foundation
import Objectives
import Torch

/// `contour loss`: evaluates one objective on saved logits and targets, for checking parity
/// with a PyTorch implementation.
struct LossCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "loss",
        abstract: "Evaluate one objective on logits (N, C, …) and a target from .npy files.",
        discussion: """
        NAME is a registered objective (--list shows them) or scnp+NAME. The target is integer \
        labels (N, 1, …) or (N, …), or a dense one-hot array of the logits' shape. Options are a \
        JSON object in the objective's vocabulary, e.g. --options '{"includeBackground": false}'. \
        The computation runs in the logits' dtype. A group (hadwiger) prints each of its objectives \
        and their sum; --gradient then writes the sum's gradient.
        """)

    @Argument(help: "Objective name (ce, dice, cedice, focal, tversky, tmcedice, scnp, scnp+NAME, rrw, …) or a group (hadwiger).")
    var name: String?

    @Option(help: "Logits .npy, shape (N, C, spatial…).") var logits: String?
    @Option(help: "Target .npy: labels (N, 1, …) / (N, …) or one-hot (N, C, …).") var target: String?
    @Option(help: "Options as a JSON object.") var options: String = "{}"
    @Option(help: "Voxel spacing for distance maps, comma-separated, array-axis order (used with useTargetSpacing).")
    var spacing: String?
    @Option(help: "Write d loss / d logits here (.npy, the logits' dtype).") var gradient: String?
    @Flag(help: "Print {\"loss\": …} as JSON.") var json = false
    @Flag(help: "List the objectives and exit.") var list = false

    func run() throws { print(try output()) }

    /// What `run` prints (without the final newline).
    func output() throws -> String {
        if list {
            // Names longer than the column (hadwiger-perimeter) widen it rather than being cut.
            let width = max(12, ObjectiveRegistry.entries.map(\.name.count).max() ?? 0)
            func column(_ s: String) -> String { s.padding(toLength: width, withPad: " ", startingAt: 0) }
            return (ObjectiveRegistry.entries.map { "\(column($0.name)) \($0.summary)" }
                + ["\(column("scnp+NAME")) NAME computed on SCNP logits; options k (3), joint (false)"]
                + ObjectiveRegistry.groups.map { "\(column($0.name)) \($0.summary)" }).joined(separator: "\n")
        }
        guard let name else { throw ValidationError("give an objective NAME (or --list)") }
        guard let logitsPath = logits, let targetPath = target else {
            throw ValidationError("--logits and --target are required")
        }
        // A group (hadwiger) stands for several objectives; anything else is one.
        let members = try ObjectiveRegistry.expand(name, options: ObjectiveOptions(json: options, for: name).values)
        let objectives = try members.map { try ObjectiveRegistry.make($0.name, options: $0.options) }
        let x = try Tensor.loadNPY(logitsPath)
        guard x.rank >= 3, x.dtype.isFloatingPoint else {
            throw ValidationError("logits must be a floating-point array (N, C, spatial…), got \(x.dtype) \(x.shape)")
        }
        var y = try LossTarget.interpreting(Tensor.loadNPY(targetPath), logitsShape: x.shape)
        if let spacing {
            let values = spacing.split(separator: ",").compactMap { Double($0.trimmingCharacters(in: .whitespaces)) }
            guard values.count == x.rank - 2 else {
                throw ValidationError("--spacing needs \(x.rank - 2) comma-separated numbers, got '\(spacing)'")
            }
            y.spacing = values
        }
        let leaf = try x.clone().requiringGrad()
        if ObjectiveRegistry.group(named: name) != nil { return try groupOutput(objectives, logits: leaf, target: y) }
        let loss = try objectives[0](logits: leaf, target: y)
        if let gradient {
            let scalar = loss.count == 1 ? loss : try loss.sum()
            guard let g = try gradients(of: scalar, with: [leaf])[0] else {
                throw ValidationError("the objective does not depend on the logits")
            }
            try g.saveNPY(gradient)
        }
        let values = try loss.doubles()
        if json {
            var o: [String: Any] = ["name": name, "loss": values.count == 1 ? values[0] as Any : values as Any]
            if values.count > 1 { o["shape"] = loss.shape }
            if let gradient { o["gradient"] = gradient }
            return try Self.json(o)
        } else if values.count == 1 {
            return String(format: "%@: %.10g", name, values[0])
        } else {
            return "\(name) \(loss.shape): " + values.map { String(format: "%.10g", $0) }.joined(separator: " ")
        }
    }

    /// Each member's value, then the sum (what the `sum` balancer with weights 1 minimises).
    private func groupOutput(_ objectives: [any Objective], logits: Tensor, target: LossTarget) throws -> String {
        var values: [(String, Double)] = []
        var total: Tensor?
        for objective in objectives {
            let loss = try objective(logits: logits, target: target)
            guard loss.count == 1 else {
                throw ValidationError("'\(objective.name)' in '\(name ?? "")' gives a loss of shape \(loss.shape), not a scalar (reduction none?)")
            }
            values.append((objective.name, try loss.item()))
            total = total.map { $0 + loss } ?? loss
        }
        guard let total else { return "" }
        if let gradient {
            guard let g = try gradients(of: total, with: [logits])[0] else {
                throw ValidationError("the objectives do not depend on the logits")
            }
            try g.saveNPY(gradient)
        }
        let sum = try total.item()
        if json {
            var o: [String: Any] = ["name": name ?? "", "loss": sum,
                                    "objectives": values.map { ["name": $0.0, "loss": $0.1] as [String: Any] }]
            if let gradient { o["gradient"] = gradient }
            return try Self.json(o)
        }
        return (values.map { String(format: "%@: %.10g", $0.0, $0.1) } + [String(format: "sum: %.10g", sum)]).joined(separator: "\n")
    }

    static func json(_ o: [String: Any]) throws -> String {
        let data = try JSONSerialization.data(withJSONObject: o, options: [.sortedKeys, .withoutEscapingSlashes])
        return String(decoding: data, as: UTF8.self)
    }
}
