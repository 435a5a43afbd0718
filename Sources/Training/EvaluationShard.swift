import Foundation
import Metrics
import Torch

extension Evaluation {
    /// This rank's cases in data-parallel evaluation: cases r, r + W, … (all of them without a group).
    public static func share<C>(_ cases: [C], of distributed: Distributed?) -> [C] {
        guard let d = distributed, d.worldSize > 1 else { return cases }
        return cases.enumerated().filter { $0.offset % d.worldSize == d.rank }.map(\.element)
    }

    /// `evaluateAll` split over the ranks of `distributed`: each scores its `share`, and the
    /// outcomes are gathered on every rank in the cases' order, so every rank returns what one
    /// process would have. A rank that fails still joins the gather (the others do not wait for
    /// it until the timeout), and every rank then throws its error naming it. `progress` counts
    /// this rank's share.
    public static func evaluateAll(_ predictor: Predictor, cases: [Case], labels: [Int], landmarkNames: [String],
                                   policy: EvaluationPolicy, progress: Progress? = nil, distributed: Distributed?,
                                   load: ((Case) throws -> Loaded)? = nil) throws -> Outcome {
        guard let d = distributed, d.worldSize > 1 else {
            return try evaluateAll(predictor, cases: cases, labels: labels, landmarkNames: landmarkNames, policy: policy, progress: progress, load: load)
        }
        var part = Part()
        do {
            part.outcome = try evaluateAll(predictor, cases: share(cases, of: d), labels: labels, landmarkNames: landmarkNames,
                                           policy: policy, progress: progress, load: load)
        } catch {
            part.error = "\(error)"
        }
        let encoder = JSONEncoder()
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        let parts = try d.allGather(bytes: Array(try encoder.encode(part))).map { try decoder.decode(Part.self, from: Data($0)) }
        if let (rank, failed) = parts.enumerated().first(where: { $0.element.error != nil }) {
            throw TrainingError(rank == d.rank ? failed.error! : "evaluation failed on rank \(rank): \(failed.error!)")
        }
        return merge(parts.map(\.outcome), order: cases.map(\.id))
    }

    /// One rank's contribution to a gathered evaluation.
    struct Part: Codable {
        var outcome = Outcome()
        var error: String?
    }

    /// Outcomes of disjoint case sets as one, rows in the order of `order` (case ids).
    static func merge(_ outcomes: [Outcome], order: [String]) -> Outcome {
        let position = Dictionary(order.enumerated().map { ($0.element, $0.offset) }, uniquingKeysWith: { a, _ in a })
        var rows = [[CaseMetricsRow]](repeating: [], count: order.count)
        var landmarkRows = [[LandmarkRow]](repeating: [], count: order.count)
        var out = Outcome()
        for o in outcomes {
            for r in o.rows { rows[position[r.caseName] ?? 0].append(r) }
            for r in o.landmarkRows { landmarkRows[position[r.caseName] ?? 0].append(r) }
            out.landmarks.merge(o.landmarks) { a, _ in a }
        }
        out.rows = rows.flatMap { $0 }
        out.landmarkRows = landmarkRows.flatMap { $0 }
        return out
    }
}
