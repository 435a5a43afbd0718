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
    public static func transform(_ logits: Tensor, oneHot y: Tensor, k: Int = 3) throws -> Tensor {
        try validate(k: k)
        guard logits.shape == y.shape else {
            throw ObjectiveError("SCNP needs a one-hot target of the logits' shape \(logits.shape), got \(y.shape)")
        }
        guard (1...3).contains(logits.rank - 2) else {
            throw ObjectiveError("SCNP needs (B, C, spatial…) logits with 1–3 spatial dims, got shape \(logits.shape)")
        }
        let notY = 1.0 - y
        let window = [k], step = [1], pad = [k / 2]
        let lowest = -(try (-(logits * y + sentinel * notY)).maxPool(kernel: window, stride: step, padding: pad))
        let highest = try (logits * notY - sentinel * y).maxPool(kernel: window, stride: step, padding: pad)
        return y * lowest + notY * highest
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

    public init(name: String, inner: any Objective, k: Int = 3, joint: Bool = false) throws {
        try SCNP.validate(k: k)
        self.name = name
        self.inner = inner
        self.k = k
        self.joint = joint
    }

    /// Reads `k` and `joint`; the caller builds `inner` from the remaining options.
    static func settings(_ o: ObjectiveOptions) throws -> (k: Int, joint: Bool) {
        let k = try o.int("k", default: 3, requirement: "an odd integer ≥ 3", valid: { $0 >= 3 && $0 % 2 == 1 })
        return (k, try o.bool("joint", default: false))
    }

    public func callAsFunction(logits: Tensor, target: LossTarget) throws -> Tensor {
        let y = try withoutGradients { try target.denseTarget(for: logits).detached() }
        let penalised = try inner(logits: SCNP.transform(logits, oneHot: y, k: k), target: target)
        return joint ? try inner(logits: logits, target: target) + penalised : penalised
    }
}
