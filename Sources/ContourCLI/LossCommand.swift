import ArgumentParser
import Foundation
import NeuralNet
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
        and their sum; --gradient then writes the sum's gradient. \
        Objectives pairing a segmentation with landmark \
        heatmaps (bab) take --segmentation (B, K, …) and --heatmaps (B, P, …) instead, sample b \
        with sample b, and --relations '{"0": [1, 5]}' (landmark index → classes).
        """)

    @Argument(help: "Objective name (ce, dice, cedice, focal, tversky, tmcedice, scnp, scnp+NAME, rrw, …) or a group (hadwiger).")
    var name: String?

    @Option(help: "Logits .npy, shape (N, C, spatial…).") var logits: String?
    @Option(help: "Target .npy: labels (N, 1, …) / (N, …) or one-hot (N, C, …).") var target: String?
    @Option(help: "Options as a JSON object.") var options: String = "{}"
    @Option(help: "Voxel spacing for distance maps, comma-separated, array-axis order (used with useTargetSpacing).")
    var spacing: String?
    @Option(help: "Write d loss / d logits here (.npy, the logits' dtype).") var gradient: String?
    @Option(help: "Segmentation .npy (B, K, spatial…), raw values or one-hot (bab).") var segmentation: String?
    @Option(help: "Landmark heatmaps .npy (B, P, spatial…) (bab; on the 0–255 scale by default).") var heatmaps: String?
    @Option(help: "Relations as JSON {landmark index: [classes]} (bab), the same as options.relations.") var relations: String?
    @Option(help: "Write d loss / d segmentation here (.npy).") var gradientSegmentation: String?
    @Option(help: "Write d loss / d heatmaps here (.npy).") var gradientHeatmaps: String?
    @Flag(help: "Print {\"loss\": …} as JSON.") var json = false
    @Flag(help: "List the objectives and exit.") var list = false

    /// `--segmentation` + `--heatmaps`: the objective's paired form, with both gradients on request.
    func runPaired(_ name: String) throws {
        guard let segmentation, let heatmaps else { throw ValidationError("--segmentation and --heatmaps go together") }
        var settings = try Options(json: options, for: name).values
        if let relations {
            guard let data = relations.data(using: .utf8), let v = try? JSONDecoder().decode(ConfigValue.self, from: data) else {
                throw ValidationError("--relations must be a JSON object {\"0\": [1, 5], …}, got '\(relations)'")
            }
            settings["relations"] = v
        }
        guard let objective = try ObjectiveRegistry.make(name, options: settings) as? any PairedHeatmapObjective else {
            throw ValidationError("objective '\(name)' has no --segmentation/--heatmaps form; use --logits and --target")
        }
        let s = try Tensor.loadNPY(segmentation), h = try Tensor.loadNPY(heatmaps)
        guard s.dtype.isFloatingPoint || s.dtype == .int64 || s.dtype == .uint8, h.dtype.isFloatingPoint else {
            throw ValidationError("--segmentation must be numeric and --heatmaps floating point, got \(s.dtype) and \(h.dtype)")
        }
        let sLeaf = try (s.dtype.isFloatingPoint ? s : s.to(.float32)).clone().requiringGrad()
        let hLeaf = try h.clone().requiringGrad()
        let loss = try objective.value(segmentation: sLeaf, heatmaps: hLeaf)
        if gradientSegmentation != nil || gradientHeatmaps != nil {
            let g = try gradients(of: loss, with: [sLeaf, hLeaf], allowUnused: true)
            if let path = gradientSegmentation { try (g[0] ?? Tensor.zeros(like: sLeaf)).saveNPY(path) }
            if let path = gradientHeatmaps { try (g[1] ?? Tensor.zeros(like: hLeaf)).saveNPY(path) }
        }
        let value = try loss.item()
        if json {
            let data = try JSONSerialization.data(withJSONObject: ["name": name, "loss": value], options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        } else {
            print(String(format: "%@: %.10g", name, value))
        }
    }

    func run() throws {
        let text = try output()
        if !text.isEmpty { print(text) }
    }

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
        if segmentation != nil || heatmaps != nil { try runPaired(name); return "" }
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
