import Torch

/// Same-Class Neighbour Penalisation (Valverde et al., CVPR 2026; METHODS §1): every logit is
/// replaced by that of its poorest-classified same-class neighbour in a k×k(×k) window — the
/// lowest true-class logit, the highest wrong-class logit — before a loss is computed.
/// Training only; inference uses the raw logits.
public enum SCNP {
    /// The official sentinel that keeps excluded positions out of the pooling (§1.2).
    public static let sentinel = 9999.0

    /// z̃ = y·minpool_{y=1}(z) + (1 − y)·maxpool_{y=0}(z), per channel, windows clipped at the border.
    ///
    /// Built exactly as the official code (sentinel-shifted max pooling) so that values and
    /// gradient routing agree, including PyTorch's first-argmax tie rule. Logits must stay below
    /// the sentinel in magnitude.
    /// `side` `.min` penalises only the true class (other logits raw), `.max` only the wrong classes:
    /// the paper's ablation of the two pooling sides.
    public static func transform(_ logits: Tensor, oneHot y: Tensor, k: Int = 3, side: Side = .both) throws -> Tensor {
        try validate(k: k)
        guard logits.shape == y.shape else {
            throw ObjectiveError("SCNP needs a one-hot target of the logits' shape \(logits.shape), got \(y.shape)")
        }
        guard (1...3).contains(logits.rank - 2) else {
            throw ObjectiveError("SCNP needs (B, C, spatial…) logits with 1–3 spatial dims, got shape \(logits.shape)")
        }
        let notY = 1.0 - y
        let window = [k], step = [1], pad = [k / 2]
        let lowest = side == .max ? logits
            : -(try (-(logits * y + sentinel * notY)).maxPool(kernel: window, stride: step, padding: pad))
        let highest = side == .min ? logits : try (logits * notY - sentinel * y).maxPool(kernel: window, stride: step, padding: pad)
        return y * lowest + notY * highest
    }

    /// Which logits SCNP replaces: both sides (the method), or only the min-pooled true-class
    /// logits, or only the max-pooled wrong-class ones.
    public enum Side: String, Sendable, CaseIterable {
        case both, min, max
    }

    /// k must be odd (an even window changes the output size) and at least 3.
    public static func validate(k: Int) throws {
        guard k >= 3, k % 2 == 1 else {
            throw ObjectiveError("option 'k' of SCNP must be an odd neighbourhood size ≥ 3 (default 3), got \(k)")
        }
    }
}

/// Any objective computed on SCNP logits: `scnp+<name>`, and `scnp` (= the official
/// SCNP(CEDice), `scnp+tmcedice`). Options: `k` (3, odd ≥ 3), `joint` (false: the paper's
/// joint form L(z) + L(scnp(z)), the reference example's variant), plus the inner loss's options.
public struct SCNPObjective: Objective {
    public let name: String
    public let inner: any Objective
    public var k: Int
    public var joint: Bool
    public var side: SCNP.Side

    public init(name: String, inner: any Objective, k: Int = 3, joint: Bool = false, side: SCNP.Side = .both) throws {
        try SCNP.validate(k: k)
        self.name = name
        self.inner = inner
        self.k = k
        self.joint = joint
        self.side = side
    }

    /// Reads `k`, `joint` and `side`; the caller builds `inner` from the remaining options.
    static func settings(_ o: ObjectiveOptions) throws -> (k: Int, joint: Bool, side: SCNP.Side) {
        let k = try o.int("k", default: 3, requirement: "an odd integer ≥ 3", valid: { $0 >= 3 && $0 % 2 == 1 })
        let side = SCNP.Side(rawValue: try o.string("side", default: "both", allowed: SCNP.Side.allCases.map(\.rawValue)))!
        return (k, try o.bool("joint", default: false), side)
    }

    public func callAsFunction(logits: Tensor, target: LossTarget) throws -> Tensor {
        let y = try withoutGradients { try target.denseTarget(for: logits).detached() }
        let penalised = try inner(logits: SCNP.transform(logits, oneHot: y, k: k, side: side), target: target)
        return joint ? try inner(logits: logits, target: target) + penalised : penalised
    }
}
