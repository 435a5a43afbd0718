import Geometry

/// The clDice metric (Shit et al. 2021; METHODS §7) on skimage-equivalent skeletons.
public struct ClDiceScore: Sendable, Equatable {
    /// |skel(A) ∩ G| / |skel(A)|: how much of the predicted skeleton lies in the truth.
    public var topologyPrecision: Double
    /// |skel(G) ∩ A| / |skel(G)|: how much of the true skeleton is covered by the prediction.
    public var topologySensitivity: Double
    /// 2·Tprec·Tsens/(Tprec + Tsens); NaN when a skeleton is empty, 0 when both ratios are 0.
    public var clDice: Double

    public init(prediction: Grid<Bool>, truth: Grid<Bool>) throws {
        try requireSameShape(prediction, truth)
        let sa = try Skeleton.skeletonize(prediction), sg = try Skeleton.skeletonize(truth)
        var na = 0, ng = 0, aInG = 0, gInA = 0
        for i in 0..<sa.count {
            if sa.storage[i] { na += 1; if truth.storage[i] { aInG += 1 } }
            if sg.storage[i] { ng += 1; if prediction.storage[i] { gInA += 1 } }
        }
        topologyPrecision = na == 0 ? .nan : Double(aInG) / Double(na)
        topologySensitivity = ng == 0 ? .nan : Double(gInA) / Double(ng)
        if na == 0 || ng == 0 {
            clDice = .nan
        } else if topologyPrecision + topologySensitivity == 0 {
            clDice = 0
        } else {
            clDice = 2 * topologyPrecision * topologySensitivity / (topologyPrecision + topologySensitivity)
        }
    }
}
