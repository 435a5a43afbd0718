import Foundation
import NeuralNet
import Torch

/// A list of (name, weight, options) terms. `terms` evaluates each separately (a balancer
/// can weigh them itself); calling it gives the linear scalarisation Σ wᵢ·Lᵢ.
public struct CompositeObjective: Objective {
    public struct Term {
        public let weight: Double
        public let objective: any Objective
        public var name: String { objective.name }
        public init(weight: Double, objective: any Objective) {
            self.weight = weight
            self.objective = objective
        }
    }

    public let terms: [Term]
    public var name: String { terms.map { "\($0.weight)·\($0.name)" }.joined(separator: " + ") }

    public init(terms: [Term]) throws {
        guard !terms.isEmpty else { throw ObjectiveError("a composite objective needs at least one term") }
        self.terms = terms
    }

    /// From JSON: `[{"name": "cedice", "weight": 1, "options": {…}}, …]` (weight 1, options
    /// empty by default) or a single such object.
    public init(json: String) throws {
        struct Spec: Decodable {
            let name: String
            let weight: Double?
            let options: [String: OptionValue]?
        }
        let data = Data(json.utf8)
        let specs: [Spec]
        do {
            if let list = try? JSONDecoder().decode([Spec].self, from: data) { specs = list }
            else { specs = [try JSONDecoder().decode(Spec.self, from: data)] }
        } catch {
            throw ObjectiveError("an objective list must be JSON like [{\"name\": \"cedice\", \"weight\": 1, \"options\": {}}]: \(error)")
        }
        try self.init(terms: specs.map { s in
            let w = s.weight ?? 1
            guard w.isFinite, w >= 0 else { throw ObjectiveError("the weight of '\(s.name)' must be a number ≥ 0, got \(w)") }
            return Term(weight: w, objective: try ObjectiveRegistry.make(s.name, options: s.options ?? [:]))
        })
    }

    /// Each term's own value, unweighted, in order.
    public func values(logits: Tensor, target: LossTarget) throws -> [Tensor] {
        try terms.map { try $0.objective(logits: logits, target: target) }
    }

    /// Each term's own value on a model's heads, unweighted, in order (what a balancer weighs).
    public func values(heads: Heads, targets: Targets) throws -> [Tensor] {
        try terms.map { try $0.objective.loss(heads: heads, targets: targets) }
    }

    public var heads: [String] {
        var seen: [String] = []
        for t in terms { for h in t.objective.heads where !seen.contains(h) { seen.append(h) } }
        return seen
    }

    public var needs: Set<TargetField> { terms.reduce(into: []) { $0.formUnion($1.objective.needs) } }

    public func loss(heads: Heads, targets: Targets) throws -> Tensor {
        let v = try values(heads: heads, targets: targets)
        var total = v[0] * terms[0].weight
        for (t, x) in zip(terms.dropFirst(), v.dropFirst()) { total = try total.adding(x * t.weight) }
        return total
    }

    public func callAsFunction(logits: Tensor, target: LossTarget) throws -> Tensor {
        let v = try values(logits: logits, target: target)
        var total = v[0] * terms[0].weight
        for (t, x) in zip(terms.dropFirst(), v.dropFirst()) { total = total + x * t.weight }
        return total
    }
}
