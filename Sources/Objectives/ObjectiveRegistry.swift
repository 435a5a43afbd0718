import Foundation
import NeuralNet
import Torch

/// Objectives by name, with options from configuration (a JSON object or a dictionary).
///
/// Names: `ce`, `dice`, `cedice`, `focal`, `tversky`, `tmcedice`, `scnp`, `scnp+<name>` (any
/// other name), `rrw`, `regionwise`, `boundary`, `cldice`, `skelrecall`, `topoloss` (2D), `hadwiger-area`,
/// `hadwiger-perimeter`, `hadwiger-euler`, `heatmap-mse`, `dicebce`, `condseg`, `condseg-cr`, `bab`, `sam`, and any
/// name a depending package adds with `register`. Unknown names and unknown or invalid options
/// are errors that name them. Group names (`hadwiger`, see `ObjectiveGroup`) stand for several
/// objectives: `expand` lists them; `make` refuses them.
public enum ObjectiveRegistry {
    public struct Entry: Sendable {
        public let name: String
        public let summary: String
        let make: @Sendable (ObjectiveOptions) throws -> any Objective
    }

    static let builtIns: [Entry] = [
        Entry(name: "ce", summary: "softmax cross-entropy (BCE for one channel); weight, labelSmoothing, ignoreIndex") {
            try CrossEntropyLoss(options: $0) },
        Entry(name: "dice", summary: "MONAI soft Dice; includeBackground, squaredPred, jaccard, batch, smoothNr/Dr") {
            try DiceLoss(options: $0) },
        Entry(name: "cedice", summary: "MONAI DiceCE: lambdaDice·Dice + lambdaCe·CE") { try DiceCELoss(options: $0) },
        Entry(name: "focal", summary: "MONAI focal loss; gamma, alpha, useSoftmax") { try FocalLoss(options: $0) },
        Entry(name: "tversky", summary: "MONAI Tversky loss; alpha, beta") { try TverskyLoss(options: $0) },
        Entry(name: "tmcedice", summary: "the SCNP/TopoMortar CE + negative per-sample Dice with background (METHODS §1.3)") {
            try OfficialCEDiceLoss(options: $0) },
        Entry(name: "scnp", summary: "official SCNP(CEDice): tmcedice on SCNP logits; k (3), joint, side (both|min|max)") { o in
            let s = try SCNPObjective.settings(o)
            return try SCNPObjective(name: o.objective, inner: OfficialCEDiceLoss(options: o), k: s.k, joint: s.joint, side: s.side) },
        Entry(name: "rrw", summary: "region-wise loss with rectified region-wise maps; parity, spacing") {
            try RegionWiseLoss(options: $0) },
        Entry(name: "regionwise", summary: "region-wise loss with a map: rrw, boundary, rwboundary") {
            try RegionWiseLoss(options: $0) },
        Entry(name: "boundary", summary: "Kervadec's Boundary loss (region-wise with signed distances, foreground)") {
            try RegionWiseLoss(options: $0, defaultMap: "boundary", defaultIncludeBackground: false) },
        Entry(name: "cldice", summary: "(1−alpha)·Dice + alpha·clDice with the soft skeleton; iterations, smooth") {
            try ClDiceLoss(options: $0) },
        Entry(name: "skelrecall", summary: "CE + Skeleton Recall (tubed GT skeleton); recallWeight, batchDice") {
            try SkeletonRecallLoss(options: $0) },
        Entry(name: "topoloss", summary: "CE + lambda·TopoLoss on 0-dim persistence of 1−p per patch (2D); patchSize, threshold, startFraction") {
            try TopoLoss(options: $0) },
        Entry(name: "hadwiger-area", summary: "HadBalance local-area prior: MSE of avgpool maps over scales; deltas ([8, 12, 16])") {
            try HadwigerLoss(.area, options: $0) },
        Entry(name: "hadwiger-perimeter", summary: "HadBalance local-perimeter prior (sharpen, blur, Sobel); deltas, tau (0.5), sigma (1), eps (1e-6)") {
            try HadwigerLoss(.perimeter, options: $0) },
        Entry(name: "hadwiger-euler", summary: "HadBalance local Euler-characteristic prior (soft bit-quads, 4-connectivity); deltas, eps (1e-6)") {
            try HadwigerLoss(.euler, options: $0) },
        Entry(name: "dicebce", summary: "ConDSeg's DiceBCE on a one-channel head (batch Dice, smooth 1); parity (double sigmoid), doubleSigmoid, inputs") {
            try DiceBCELoss(options: $0) },
        Entry(name: "condseg", summary: "ConDSeg stage 2: DiceBCE(M) + β·DiceBCE(fg, bg) + L_compl; parity, doubleSigmoid, batchArea, betaGradient, softmaxOfProbabilities; sid: false = DiceBCE(M) alone (model without SID)") {
            try ConDSegLoss(options: $0) },
        Entry(name: "condseg-cr", summary: "ConDSeg stage 1 (step: consistency): DiceBCE(M) + DiceBCE(M′) + binarised BCE consistency; parity, doubleSigmoid") {
            try ConDSegCRLoss(options: $0) },
        Entry(name: "heatmap-mse", summary: "MSE between a heatmap head and Gaussian landmark heatmaps, over annotated landmarks; head (heatmaps)") {
            try HeatmapMSE(options: $0) },
        Entry(name: "bab", summary: "BaBLoss: BaB(Ŝ, H) + BaB(onehot(y), L̂); form (official|cosine), maxDistance (10), relations, heatmapScale (255)") {
            try BaBLoss(options: $0) },
        Entry(name: "sam", summary: "BaBLoss's L_sam: BCE(σ(Ŝ[b, k]), 1[pseudo = k]) per class of each sample's pseudoLabelsTr/ file; head") {
            try PseudoLabelBCE(options: $0) },
    ]

    static let store = RegistryStore(builtIns, kind: "objective", reserved: ",+") { $0.name }

    /// Built-ins first, then registered objectives in registration order.
    public static var entries: [Entry] { store.entries }

    public static var names: [String] { store.names }

    /// Makes `name` (and `scnp+name`) available to `make` and to configurations
    /// (`objectives: [{name: …, options: …}]`). `make` must read every option it supports from the
    /// `ObjectiveOptions` it gets (unread ones are reported as unknown) and should return an
    /// objective whose `name` is `options.objective`. A name that exists is an error unless `replace` is true.
    public static func register(name: String, summary: String, replace: Bool = false,
                                make: @escaping @Sendable (ObjectiveOptions) throws -> any Objective) throws {
        guard group(named: name) == nil else { throw ObjectiveError("'\(name)' is an objective group's name") }
        if let problem = store.add(Entry(name: name, summary: summary, make: make), replace: replace) {
            throw ObjectiveError(problem)
        }
    }

    public static let scnpPrefix = "scnp+"

    /// Names that stand for several objectives.
    public static let groups: [ObjectiveGroup] = [.hadwiger]

    public static func group(named name: String) -> ObjectiveGroup? { groups.first { $0.name == name } }

    /// The objectives `name` stands for: a group's members (its options read and checked here;
    /// `path` names them in messages, e.g. `objectives[0].options`), or `name` itself with `options`.
    public static func expand(_ name: String, options: [String: OptionValue] = [:],
                              path: String? = nil) throws -> [ObjectiveGroup.Member] {
        guard let g = group(named: name) else { return [ObjectiveGroup.Member(name: name, options: options)] }
        let o = Options(options, for: name, path: path)
        let members = try g.expand(o)
        try o.finish()
        return members
    }

    /// Builds `name` with `options`; every option must be known to the objective.
    public static func make(_ name: String, options: ObjectiveOptions) throws -> any Objective {
        let objective: any Objective
        if name.hasPrefix(scnpPrefix) {
            let innerName = String(name.dropFirst(scnpPrefix.count))
            guard !innerName.hasPrefix("scnp") else {
                throw ObjectiveError("'\(name)': SCNP is applied once; use 'scnp+<loss>' with a loss that is not SCNP")
            }
            let entry = try lookup(innerName, asked: name)
            let s = try SCNPObjective.settings(options)
            objective = try SCNPObjective(name: name, inner: entry.make(options), k: s.k, joint: s.joint, side: s.side)
        } else {
            objective = try lookup(name, asked: name).make(options)
        }
        try options.finish()
        return objective
    }

    public static func make(_ name: String, options: [String: OptionValue] = [:]) throws -> any Objective {
        try make(name, options: ObjectiveOptions(options, for: name))
    }

    public static func make(_ name: String, json: String) throws -> any Objective {
        try make(name, options: ObjectiveOptions(json: json, for: name))
    }

    private static func lookup(_ name: String, asked: String) throws -> Entry {
        if let g = group(named: name) {
            throw ObjectiveError("'\(asked)' stands for several objectives (\(g.summary)); list it under 'objectives:' "
                                 + "in a configuration, where it expands to them, or evaluate it with 'contour loss \(g.name)'")
        }
        guard let e = store.entry(named: name) else {
            throw ObjectiveError("unknown loss '\(asked)'; known: \(names.joined(separator: ", ")), and scnp+<any of them>; "
                                 + "groups: \(groups.map(\.name).joined(separator: ", "))")
        }
        return e
    }
}
