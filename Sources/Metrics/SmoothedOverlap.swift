/// ConDSeg's per-image overlap scores (its utils/metrics.py, METHODS §4.7): every ratio with
/// 1e-15 added to numerator and denominator, so an empty prediction of an empty truth scores 1
/// everywhere and an empty prediction of a non-empty truth has precision 1. F2 is
/// 5·P·R / (4·P + R + 1e-15) from those P and R; accuracy is the fraction of agreeing voxels.
public struct SmoothedOverlap: Sendable, Equatable {
    public static let epsilon = 1e-15
    public var jaccard: Double
    public var f1: Double
    public var recall: Double
    public var precision: Double
    public var accuracy: Double
    public var f2: Double

    public init(_ c: ConfusionCounts) {
        let e = Self.epsilon
        let tp = Double(c.truePositives), predicted = Double(c.predictedCount), truth = Double(c.truthCount)
        precision = (tp + e) / (predicted + e)
        recall = (tp + e) / (truth + e)
        f2 = 5 * precision * recall / (4 * precision + recall + e)
        f1 = (2 * tp + e) / (truth + predicted + e)
        jaccard = (tp + e) / (truth + predicted - tp + e)
        let n = c.truePositives + c.falsePositives + c.falseNegatives + c.trueNegatives
        accuracy = n == 0 ? .nan : Double(c.truePositives + c.trueNegatives) / Double(n)
    }
}
