import NeuralNet
import Torch

/// How a label-map objective is applied to a head during training: at every deep-supervision
/// level (nnU-Net's weights 1/2^i, normalised to sum 1, labels nearest-downsampled) and only
/// over what each sample annotates.
///
/// - A sample without a label map contributes nothing (never "background").
/// - A partially labelled sample is scored in the marginal form: its unannotated foreground
///   classes are merged into background (merged logit = logsumexp over {0} ∪ unannotated, so
///   the merged probability is the sum of theirs), and the objective sees only the merged
///   background and the annotated classes (Shi et al., "Marginal loss and exclusion loss for
///   partially supervised multi-organ segmentation", MedIA 2021).
/// - Samples sharing an annotation set are scored together; the result is the sample-weighted
///   mean over those groups. A batch with nothing annotated gives a zero loss (with a graph).
/// A fully labelled batch takes exactly the plain path, so results equal a plain call.
public enum AnnotatedSegmentationLoss {
    public static func loss(_ objective: any Objective, levels: [Tensor], targets: Targets, head: String) throws -> Tensor {
        guard let full = levels.first else {
            throw ObjectiveError("objective '\(objective.name)' reads head '\(head)', which the model does not produce")
        }
        // A batch of cases without label maps (e.g. landmark-only) has nothing to score.
        if targets.labels == nil && targets.annotatedLabels.allSatisfy(\.isEmpty) { return try full.sum() * 0 }
        let labels = try targets.requireLabels(by: "objective '\(objective.name)'")
        // Who annotates what is the same at every level: grouped once, nil for a fully labelled batch.
        let groups = targets.fullyLabelled ? nil : try Group.make(targets, logits: full, labels: labels, objective: objective.name)
        if let groups, groups.isEmpty { return try full.sum() * 0 }
        let weights = (0..<levels.count).map { 1 / Double(1 << $0) }
        let sum = weights.reduce(0, +)
        var total: Tensor?
        for (i, logits) in levels.enumerated() {
            var y = labels
            if logits.shape.dropFirst(2) != labels.shape.dropFirst(2) {
                y = try labels.to(.float32).interpolate(size: Array(logits.shape.dropFirst(2)), mode: .nearest).to(.int64)
            }
            // Cached maps are of full-size, unaugmented labels: only level 0 may use them.
            let l = try annotated(objective, logits: logits, labels: y, targets: targets, groups: groups, useCache: i == 0)
            let term = levels.count == 1 ? l : l * (weights[i] / sum)
            total = try total.map { try $0.adding(term) } ?? term
        }
        return total!
    }

    /// Samples sharing one annotation set, with the index tensors that select them and, for a
    /// partial set, merge the unannotated classes into background and renumber the labels.
    struct Group {
        let rows: Int
        let index: Tensor
        let ids: [String]?
        /// nil when the set is every foreground class (the plain objective applies).
        let marginal: (merged: Tensor, kept: Tensor, lookup: Tensor)?

        /// Groups in first-seen order (deterministic); samples annotating nothing are left out.
        static func make(_ targets: Targets, logits: Tensor, labels: Tensor, objective: String) throws -> [Group] {
            guard targets.annotatedLabels.count == logits.shape[0] else {
                throw ObjectiveError("targets describe \(targets.annotatedLabels.count) samples, the logits \(logits.shape[0])")
            }
            var order: [Set<Int>] = []
            var members: [Set<Int>: [Int]] = [:]
            for (b, set) in targets.annotatedLabels.enumerated() where !set.isEmpty {
                if members[set] == nil { order.append(set) }
                members[set, default: []].append(b)
            }
            let classes = logits.shape[1]
            func indices(_ values: [Int], on device: Device) throws -> Tensor {
                try Tensor(values.map { Int64($0) }, shape: [values.count]).to(device)
            }
            return try order.map { set in
                let rows = members[set]!
                var marginal: (Tensor, Tensor, Tensor)?
                if set != targets.foregroundClasses {
                    guard classes >= 2 else {
                        throw ObjectiveError("partially labelled samples need a softmax head with ≥ 2 channels; '\(objective)' got \(classes)")
                    }
                    let kept = set.sorted().filter { $0 < classes }
                    // Class c ↦ its position among the kept classes (1…), everything else ↦ merged background 0.
                    var table = [Int](repeating: 0, count: Swift.max(classes, 256))
                    for (j, c) in kept.enumerated() { table[c] = j + 1 }
                    marginal = (try indices([0] + (1..<classes).filter { !set.contains($0) }, on: logits.device),
                                try indices(kept, on: logits.device), try indices(table, on: labels.device))
                }
                return Group(rows: rows.count, index: try indices(rows, on: logits.device),
                             ids: targets.caseIDs.map { ids in rows.map { ids[$0] } }, marginal: marginal)
            }
        }
    }

    /// One level: the plain objective on a fully labelled batch (`groups` nil), the marginal form otherwise.
    static func annotated(_ objective: any Objective, logits: Tensor, labels: Tensor, targets: Targets, groups: [Group]?,
                          useCache: Bool) throws -> Tensor {
        func target(_ l: Tensor, ids: [String]?, cache: Bool) throws -> LossTarget {
            var t = try LossTarget(labels: l, caseIDs: cache ? ids : nil, spacing: targets.spacing, cache: cache ? targets.cache : nil)
            t.trainingProgress = targets.trainingProgress
            return t
        }
        guard let groups else { return try objective(logits: logits, target: target(labels, ids: targets.caseIDs, cache: useCache)) }
        var total: Tensor?
        var counted = 0
        for g in groups {
            var z = try logits.indexSelect(dim: 0, index: g.index)
            var y = try labels.indexSelect(dim: 0, index: try g.index.to(labels.device))
            if let m = g.marginal {
                let background = try z.indexSelect(dim: 1, index: m.merged).logsumexp(dims: [1], keepDim: true)
                z = try Tensor.cat([background, try z.indexSelect(dim: 1, index: m.kept)], dim: 1)
                y = try m.lookup.indexSelect(dim: 0, index: try y.flatten()).reshape(y.shape)
            }
            // Maps cached per case are of the full label set: not for a merged one.
            let l = try objective(logits: z, target: target(y, ids: g.ids, cache: useCache && g.marginal == nil))
            let weighted = l * Double(g.rows)
            total = try total.map { try $0.adding(weighted) } ?? weighted
            counted += g.rows
        }
        return total! / Double(counted)
    }
}
