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
        guard !levels.isEmpty else {
            throw ObjectiveError("objective '\(objective.name)' reads head '\(head)', which the model does not produce")
        }
        // A batch of cases without label maps (e.g. landmark-only) has nothing to score.
        if targets.labels == nil && targets.annotatedLabels.allSatisfy(\.isEmpty) { return try levels[0].sum() * 0 }
        let labels = try targets.requireLabels(by: "objective '\(objective.name)'")
        let weights = (0..<levels.count).map { 1 / Double(1 << $0) }
        let sum = weights.reduce(0, +)
        var total: Tensor?
        for (i, logits) in levels.enumerated() {
            var y = labels
            if logits.shape.dropFirst(2) != labels.shape.dropFirst(2) {
                y = try labels.to(.float32).interpolate(size: Array(logits.shape.dropFirst(2)), mode: .nearest).to(.int64)
            }
            // Cached maps are of full-size, unaugmented labels: only level 0 may use them.
            let l = try annotated(objective, logits: logits, labels: y, targets: targets, useCache: i == 0)
            let term = levels.count == 1 ? l : l * (weights[i] / sum)
            total = try total.map { try $0.adding(term) } ?? term
        }
        return total!
    }

    /// One level: the plain objective on a fully labelled batch, the marginal form otherwise.
    static func annotated(_ objective: any Objective, logits: Tensor, labels: Tensor, targets: Targets, useCache: Bool) throws -> Tensor {
        func target(_ l: Tensor, ids: [String]?, cache: Bool) throws -> LossTarget {
            var t = try LossTarget(labels: l, caseIDs: ids, spacing: targets.spacing, cache: cache ? targets.cache : nil)
            t.trainingProgress = targets.trainingProgress
            return t
        }
        if targets.fullyLabelled {
            return try objective(logits: logits, target: target(labels, ids: useCache ? targets.caseIDs : nil, cache: useCache))
        }
        guard targets.annotatedLabels.count == logits.shape[0] else {
            throw ObjectiveError("targets describe \(targets.annotatedLabels.count) samples, the logits \(logits.shape[0])")
        }
        // Group samples by what they annotate (in first-seen order, for determinism).
        var order: [Set<Int>] = []
        var members: [Set<Int>: [Int]] = [:]
        for (b, set) in targets.annotatedLabels.enumerated() where !set.isEmpty {
            if members[set] == nil { order.append(set) }
            members[set, default: []].append(b)
        }
        guard !order.isEmpty else { return try logits.sum() * 0 }
        let classes = logits.shape[1]
        var total: Tensor?
        var counted = 0
        for set in order {
            let rows = members[set]!
            let index = try Tensor(rows.map { Int64($0) }, shape: [rows.count]).to(logits.device)
            var z = try logits.indexSelect(dim: 0, index: index)
            var y = try labels.indexSelect(dim: 0, index: try index.to(labels.device))
            let ids = targets.caseIDs.map { ids in rows.map { ids[$0] } }
            var useCacheHere = useCache
            if set != targets.foregroundClasses {
                guard classes >= 2 else {
                    throw ObjectiveError("partially labelled samples need a softmax head with ≥ 2 channels; '\(objective.name)' got \(classes)")
                }
                let kept = set.sorted().filter { $0 < classes }
                let merged = [0] + (1..<classes).filter { !set.contains($0) }
                let mergedIndex = try Tensor(merged.map { Int64($0) }, shape: [merged.count]).to(z.device)
                let keptIndex = try Tensor(kept.map { Int64($0) }, shape: [kept.count]).to(z.device)
                let background = try z.indexSelect(dim: 1, index: mergedIndex).logsumexp(dims: [1], keepDim: true)
                z = try Tensor.cat([background, try z.indexSelect(dim: 1, index: keptIndex)], dim: 1)
                // Class c ↦ its position among the kept classes (1…), everything else ↦ merged background 0.
                var table = [Int64](repeating: 0, count: Swift.max(classes, 256))
                for (j, c) in kept.enumerated() { table[c] = Int64(j + 1) }
                let lookup = try Tensor(table, shape: [table.count]).to(y.device)
                y = try lookup.indexSelect(dim: 0, index: try y.flatten()).reshape(y.shape)
                useCacheHere = false
            }
            let l = try objective(logits: z, target: target(y, ids: useCacheHere ? ids : nil, cache: useCacheHere))
            let weighted = l * Double(rows.count)
            total = try total.map { try $0.adding(weighted) } ?? weighted
            counted += rows.count
        }
        return total! / Double(counted)
    }
}
