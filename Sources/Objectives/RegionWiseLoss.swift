import Torch

/// The region-wise loss (Valverde & Tohka 2023; METHODS §2.1): L = mean_{b,c,x} softmax(z)·Z
/// over all elements, with a map Z computed from the labels.
///
/// Registered as `rrw` / `regionwise` (map rrw) and `boundary` (Kervadec's Boundary loss: map
/// boundary, foreground channels only). Options: `map` (rrw, boundary, rwboundary), `parity`
/// (rrw only, false: a class filling a case gets −1; true: the official SciPy artefact),
/// `includeBackground`, `spacing` (a list, default unit spacing as the official code), or
/// `useTargetSpacing` (the target's spacing). Needs C ≥ 2 (softmax).
public struct RegionWiseLoss: Objective {
    public let name: String
    public var map: RegionMap
    public var includeBackground: Bool
    public var spacing: [Double]?
    public var useTargetSpacing: Bool

    public init(options o: ObjectiveOptions, defaultMap: String = "rrw", defaultIncludeBackground: Bool = true) throws {
        name = o.objective
        let kind = try o.string("map", default: defaultMap, allowed: ["rrw", "boundary", "rwboundary"])
        let parity = try o.optionalBool("parity")
        if parity != nil && kind != "rrw" {
            throw ObjectiveError("option 'parity' of '\(name)' applies to map rrw only")
        }
        switch kind {
        case "rrw": map = .rrw(parity == true ? .parity : .clean)
        case "boundary": map = .boundary(.kervadec)
        default: map = .boundary(.regionWise)
        }
        includeBackground = try o.bool("includeBackground", default: defaultIncludeBackground)
        spacing = try o.doubles("spacing", requirement: "a list of positive numbers", valid: { $0 > 0 })
        useTargetSpacing = try o.bool("useTargetSpacing", default: false)
        if spacing != nil && useTargetSpacing {
            throw ObjectiveError("options 'spacing' and 'useTargetSpacing' of '\(name)' are exclusive")
        }
    }

    public func callAsFunction(logits: Tensor, target: LossTarget) throws -> Tensor {
        guard logits.shape[1] >= 2 else {
            throw ObjectiveError("'\(name)' needs C ≥ 2 softmax channels (got one channel); use two-class logits")
        }
        var p = try logits.softmax(dim: 1)
        var z = try withoutGradients {
            try map.tensor(for: target, logits: logits, spacing: useTargetSpacing ? target.spacing : spacing)
        }
        if !includeBackground {
            p = try p.droppingFirstChannel()
            z = try z.droppingFirstChannel()
        }
        return try p.multiplying(z).mean()  // throws on a map that does not fit the logits
    }
}
