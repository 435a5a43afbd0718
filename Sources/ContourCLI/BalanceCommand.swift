import ArgumentParser
import Foundation
import NeuralNet
import Objectives
import Torch

/// `contour balance`: runs one balancer on saved per-objective gradients, for checking its
/// weights and direction against a reference implementation.
struct BalanceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "balance",
        abstract: "Combine per-objective gradients (a K×P .npy, row 0 the primary) with one balancer.",
        discussion: """
        NAME is a registered balancer (--list shows them). Options are a JSON object in the \
        balancer's vocabulary, e.g. --options '{"slack": -0.01}'. Prints the weights per \
        objective and the projected objectives (pgp, caob); --direction writes d (P, float64).
        """)

    @Argument(help: "Balancer name (pgp, agb, caob, fairgrad, nash-mtl, mgda, pcgrad, sum).") var name: String?
    @Option(help: "Gradients .npy, shape (K, P), float32 or float64; row 0 is the primary.") var gradients: String?
    @Option(help: "Options as a JSON object.") var options: String = "{}"
    @Option(help: "Write the combined direction here (.npy, float64, shape (P)).") var direction: String?
    @Flag(help: "Print {\"weights\": …, \"projected\": …} as JSON.") var json = false
    @Flag(help: "List the balancers and exit.") var list = false

    /// What `run` prints.
    func output() throws -> String {
        if list {
            return BalancerRegistry.entries.map { "\($0.name.padding(toLength: 10, withPad: " ", startingAt: 0)) \($0.summary)" }
                .joined(separator: "\n")
        }
        guard let name else { throw ValidationError("give a balancer NAME (or --list)") }
        guard let path = gradients else { throw ValidationError("--gradients is required (a K×P .npy)") }
        let settings = try Options(json: options, for: "balancer \(name)").values
        let balancer = try BalancerRegistry.make(name, options: settings)
        let G = try Tensor.loadNPY(path)
        guard G.rank == 2 else { throw ValidationError("--gradients must be a 2-D array (K objectives, P parameters), got shape \(G.shape)") }
        guard G.dtype == .float32 || G.dtype == .float64 else {
            throw ValidationError("--gradients must be float32 or float64, got \(G.dtype)")
        }
        guard G.shape[0] >= 2 else { throw ValidationError("--gradients needs K ≥ 2 rows (the primary and at least one auxiliary), got shape \(G.shape)") }
        let rows = try (0..<G.shape[0]).map { try G.select(dim: 0, index: $0).to(.float64) }
        for (k, row) in rows.enumerated() where try row.isFinite().all().item() != 1 {
            throw ValidationError("--gradients row \(k) has NaN or infinite values")
        }
        let d = try balancer.combine(rows, losses: [Double](repeating: 0, count: rows.count))
        if let direction { try d.contiguous().saveNPY(direction) }
        let weights = balancer.lastWeights
        let projected = (balancer as? any ProjectingBalancer)?.lastProjected ?? []
        if json {
            var o: [String: Any] = ["name": name, "projected": projected]
            o["weights"] = weights ?? NSNull()
            if let direction { o["direction"] = direction }
            let data = try JSONSerialization.data(withJSONObject: o, options: [.sortedKeys, .withoutEscapingSlashes])
            return String(decoding: data, as: UTF8.self)
        }
        let w = weights.map { $0.map { String(format: "%.8g", $0) }.joined(separator: " ") } ?? "none"
        return "\(name): weights \(w); projected \(projected.isEmpty ? "none" : projected.map(String.init).joined(separator: " "))"
    }

    func run() throws { print(try output()) }
}
