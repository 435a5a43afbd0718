import Torch

/// One Hadwiger shape prior of HadBalance (METHODS §3.5, [reconstruction]): the MSE between the
/// prediction's and the truth's local map, averaged over the scales Δ,
///
///     L = (1/|Δ|) Σ_δ mean_{b,c,x} (M_δ(p) − M_δ(y))²,   M ∈ {area, perimeter, euler}
///
/// p is the sigmoid of a one-channel output, or the softmax's foreground channels 1… (y their
/// one-hot truth), so the multi-class loss is the mean of the per-class losses. The truth's maps
/// carry no gradient. Options: `deltas` ([8, 12, 16], integers ≥ 1); perimeter also `tau` (0.5)
/// and `sigma` (1.0); perimeter and euler also `eps` (1e-6). The objectives are meant to be
/// balanced with the primary loss (`balancer: caob`), not weighted by hand.
public struct HadwigerLoss: Objective {
    public enum Term: String, Sendable, CaseIterable {
        case area, perimeter, euler
    }

    public let name: String
    public let term: Term
    public var deltas: [Int]
    public var maps: HadwigerMaps

    public init(_ term: Term, deltas: [Int] = [8, 12, 16], maps: HadwigerMaps? = nil, name: String? = nil) throws {
        guard !deltas.isEmpty, deltas.allSatisfy({ $0 >= 1 }) else {
            throw ObjectiveError("'deltas' of 'hadwiger-\(term.rawValue)' must be a non-empty list of integers ≥ 1, got \(deltas)")
        }
        self.term = term
        self.deltas = deltas
        self.maps = try maps ?? HadwigerMaps()
        self.name = name ?? "hadwiger-\(term.rawValue)"
    }

    public init(_ term: Term, options o: ObjectiveOptions) throws {
        let deltas = try o.ints("deltas", default: [8, 12, 16], requirement: "a non-empty list of integers ≥ 1",
                                valid: { $0 >= 1 })
        guard !deltas.isEmpty else {
            throw ObjectiveError("option 'deltas' of '\(o.objective)' must be a non-empty list of integers ≥ 1, got []")
        }
        // Each term reads only the options it uses, so the others are reported as unknown.
        let tau = term == .perimeter
            ? try o.double("tau", default: 0.5, requirement: "a number > 0", valid: { $0 > 0 && $0.isFinite }) : 0.5
        let sigma = term == .perimeter
            ? try o.double("sigma", default: 1.0, requirement: "a finite number (≤ 0: no blur)", valid: { $0.isFinite }) : 1.0
        let eps = term == .area
            ? 1e-6 : try o.double("eps", default: 1e-6, requirement: "a number in (0, 0.5)", valid: { $0 > 0 && $0 < 0.5 })
        try self.init(term, deltas: deltas, maps: HadwigerMaps(tau: tau, sigma: sigma, eps: eps), name: o.objective)
    }

    /// The map of this term at scale δ.
    public func map(_ p: Tensor, delta: Int) throws -> Tensor {
        switch term {
        case .area: return try maps.area(p, delta: delta)
        case .perimeter: return try maps.perimeter(p, delta: delta)
        case .euler: return try maps.euler(p, delta: delta)
        }
    }

    public func callAsFunction(logits: Tensor, target: LossTarget) throws -> Tensor {
        guard (2...3).contains(logits.rank - 2) else {
            throw ObjectiveError("'\(name)' needs logits (N, C, H, W) or (N, C, D, H, W), got shape \(logits.shape)")
        }
        let c = logits.shape[1]
        var p = try c > 1 ? logits.softmax(dim: 1) : logits.sigmoid()
        var y = try target.denseTarget(for: logits)
        guard y.shape == p.shape else {
            throw ObjectiveError("'\(name)': the target's shape \(y.shape) does not match the logits' \(p.shape)")
        }
        if c > 1 {
            p = try p.droppingFirstChannel()
            y = try y.droppingFirstChannel()
        }
        var total: Tensor?
        for d in deltas {
            let truth = try withoutGradients { try map(y, delta: d) }
            let mse = try (map(p, delta: d) - truth).square().mean()
            total = total.map { $0 + mse } ?? mse
        }
        return total! / Double(deltas.count)
    }
}
