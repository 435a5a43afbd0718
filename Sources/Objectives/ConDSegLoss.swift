import NeuralNet
import Torch

/// ConDSeg's stage-2 loss (METHODS §4.7) on four one-channel heads — the mask M
/// (`segmentation`) and the decoupled `foreground`, `background` and `uncertainty` maps:
///
///     L = DiceBCE(M, y) + β_fg·DiceBCE(M_fg, y) + β_bg·DiceBCE(M_bg, 1 − y) + L_compl
///     β_k = 1 / (tanh(area_k) + ε),  L_compl = mean over voxels of Σ_{pairs} P_i·P_j
///     with (P_fg, P_bg, P_uc) a softmax over the three maps.
///
/// Heads carry logits (p = σ(z)). Defaults are as published (`parity: true`); each quirk of
/// §4.9 can be switched on its own, and `parity: false` gives every corrected form:
/// - `doubleSigmoid`: DiceBCE applies σ to probabilities (corrected: to the logits once);
/// - `batchArea`: area_k = Σ over the whole batch / voxels per image, so β depends on the
///   batch size (corrected: the mean over the batch, Σ / (B·voxels));
/// - `betaGradient`: gradients flow through β (corrected: β is a constant of the step);
/// - `softmaxOfProbabilities`: the softmax of L_compl is over σ outputs, which keeps each P in
///   [0.155, 0.576] (corrected: over the logits).
/// - `unaugmentedBackground`: the background target is 1 − y of the labels before geometric
///   augmentation (the official code passes it to albumentations as an undeclared key, which
///   is passed through untransformed); corrected: 1 − y of the augmented labels. Where the
///   targets carry no unaugmented labels (no augmentation, `contour loss`) both are the same.
///
/// `sid: false` pairs with the `condseg` model's "without SID" ablation, which has no decoupled
/// maps: the β and L_compl terms go with them and L = DiceBCE(M, y) (the options of the
/// decoupled terms are then an error).
public struct ConDSegLoss: Objective {
    public let name: String
    public let mask: String, foreground: String, background: String, uncertainty: String
    public let doubleSigmoid: Bool
    public let batchArea: Bool
    public let betaGradient: Bool
    public let softmaxOfProbabilities: Bool
    public let unaugmentedBackground: Bool
    public let epsilon: Double
    public let probabilityInputs: Bool
    /// The decoupled heads exist (false: the "without SID" model, L = DiceBCE(M, y)).
    public let sid: Bool

    /// Options that only concern the decoupled maps' terms.
    static let decoupledOptions = ["foregroundHead", "backgroundHead", "uncertaintyHead", "batchArea", "betaGradient",
                                   "softmaxOfProbabilities", "unaugmentedBackground", "epsilon"]

    public init(options o: ObjectiveOptions) throws {
        name = o.objective
        let sid = try o.bool("sid", default: true)
        self.sid = sid
        if !sid, let given = Self.decoupledOptions.first(where: o.has) {
            throw ObjectiveError("\(o.subject(given)) concerns the decoupled maps, which 'sid: false' (the model without SID) has none of; remove it")
        }
        mask = try o.string("head", default: Heads.segmentation)
        let parity = try o.bool("parity", default: true)
        doubleSigmoid = try o.optionalBool("doubleSigmoid") ?? parity
        // Without SID the decoupled options are not read, so the saved (resolved) options hold none.
        func flag(_ key: String) throws -> Bool { try sid ? (o.optionalBool(key) ?? parity) : false }
        foreground = try sid ? o.string("foregroundHead", default: "foreground") : "foreground"
        background = try sid ? o.string("backgroundHead", default: "background") : "background"
        uncertainty = try sid ? o.string("uncertaintyHead", default: "uncertainty") : "uncertainty"
        batchArea = try flag("batchArea")
        betaGradient = try flag("betaGradient")
        softmaxOfProbabilities = try flag("softmaxOfProbabilities")
        unaugmentedBackground = try flag("unaugmentedBackground")
        epsilon = try sid ? o.double("epsilon", default: 1e-15, requirement: "a number > 0", valid: { $0 > 0 }) : 1e-15
        probabilityInputs = try o.string("inputs", default: "logits", allowed: ["logits", "probabilities"]) == "probabilities"
    }

    public var heads: [String] { sid ? [mask, foreground, background, uncertainty] : [mask] }
    public var needs: Set<TargetField> { unaugmentedBackground ? [.labels, .unaugmentedLabels] : [.labels] }

    public func callAsFunction(logits: Tensor, target: LossTarget) throws -> Tensor {
        throw ObjectiveError("'\(name)' reads the heads \(heads.joined(separator: ", ")) with their targets; it has no single-head form (use it in training)")
    }

    public func loss(heads h: Heads, targets: Targets) throws -> Tensor {
        let user = "objective '\(name)'"
        let raw = try heads.map { try binaryHead(h, $0, user: user) }
        guard raw.allSatisfy({ $0.shape == raw[0].shape }) else {
            throw ObjectiveError("\(user): heads \(heads) must have one shape, got \(raw.map(\.shape))")
        }
        guard let t = try BinaryTargets(targets, like: raw[0], user: user) else { return try raw[0].sum() * 0 }
        let z = try raw.map { try t.select($0) }
        var yBackground: Tensor?
        if unaugmentedBackground, let u = targets.unaugmentedLabels {
            guard u.shape == targets.labels?.shape else {
                throw ObjectiveError("\(user): unaugmented labels \(u.shape) do not match the labels \(targets.labels?.shape ?? [])")
            }
            yBackground = try t.mask(of: u, like: raw[0])
        }
        return try value(z, y: t.mask, backgroundOf: yBackground)
    }

    /// The loss of the heads' values (M, M_fg, M_bg, M_uc), each (B, 1, spatial…), against y;
    /// the background head's target is 1 − `backgroundOf` (default y). With `sid` false, (M) alone.
    public func value(_ z: [Tensor], y: Tensor, backgroundOf yb: Tensor? = nil) throws -> Tensor {
        let p = try z.map { probabilityInputs ? $0 : try $0.sigmoid() }
        let voxels = Double(y.shape.dropFirst(2).reduce(1, *)), b = Double(y.shape[0])
        func beta(_ q: Tensor) throws -> Tensor {
            let area = try q.sum() / (batchArea ? voxels : voxels * b)
            let w = 1 / (try area.tanh() + epsilon)
            return betaGradient ? w : try w.detached()
        }
        let ybg = 1 - (yb ?? y)
        var total = try DiceBCELoss.value(p[0], y, doubleSigmoid: doubleSigmoid)
        guard sid else { return total }  // without SID: no decoupled maps, so no β terms and no L_compl
        total = try total.adding(try beta(p[1]) * DiceBCELoss.value(p[1], y, doubleSigmoid: doubleSigmoid))
        total = try total.adding(try beta(p[2]) * DiceBCELoss.value(p[2], ybg, doubleSigmoid: doubleSigmoid))
        return try total.adding(try Self.complementarity(softmaxOfProbabilities ? Array(p[1...]) : try logitsOf(z, p)))
    }

    /// The logits of the three decoupled maps (for the corrected softmax).
    func logitsOf(_ z: [Tensor], _ p: [Tensor]) throws -> [Tensor] {
        guard probabilityInputs else { return Array(z[1...]) }
        return try p[1...].map { try $0.log().subtracting(try (1 - $0).log()) }
    }

    /// Mean over voxels of P_fg·P_bg + P_fg·P_uc + P_bg·P_uc, P a softmax over the three maps.
    static func complementarity(_ maps: [Tensor]) throws -> Tensor {
        let s = try Tensor.stack(maps, dim: 1).softmax(dim: 1)
        let f = try s.select(dim: 1, index: 0), g = try s.select(dim: 1, index: 1), u = try s.select(dim: 1, index: 2)
        return try (f * g + f * u + g * u).mean()
    }
}
