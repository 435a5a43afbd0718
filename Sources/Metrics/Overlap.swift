import Geometry

/// Voxel counts of a binary prediction against a binary truth.
public struct ConfusionCounts: Sendable, Equatable {
    public var truePositives: Int
    public var falsePositives: Int
    public var falseNegatives: Int
    public var trueNegatives: Int

    public init(truePositives: Int, falsePositives: Int, falseNegatives: Int, trueNegatives: Int) {
        self.truePositives = truePositives
        self.falsePositives = falsePositives
        self.falseNegatives = falseNegatives
        self.trueNegatives = trueNegatives
    }

    public init(prediction: Grid<Bool>, truth: Grid<Bool>) throws {
        try requireSameShape(prediction, truth)
        var tp = 0, fp = 0, fn = 0
        prediction.storage.withUnsafeBufferPointer { p in
            truth.storage.withUnsafeBufferPointer { g in
                for i in 0..<p.count {
                    let a = p[i], b = g[i]
                    if a && b { tp += 1 } else if a { fp += 1 } else if b { fn += 1 }
                }
            }
        }
        self.init(truePositives: tp, falsePositives: fp, falseNegatives: fn,
                  trueNegatives: prediction.count - tp - fp - fn)
    }

    public var predictedCount: Int { truePositives + falsePositives }
    public var truthCount: Int { truePositives + falseNegatives }

    /// 2|A∩G|/(|A|+|G|); `bothEmpty` (NaN by default, as nnU-Net/medpy/MONAI) when both are empty.
    public func dice(bothEmpty: Double = .nan) -> Double {
        let den = predictedCount + truthCount
        return den == 0 ? bothEmpty : 2 * Double(truePositives) / Double(den)
    }

    /// |A∩G|/|A∪G| (Jaccard); `bothEmpty` when both are empty.
    public func iou(bothEmpty: Double = .nan) -> Double {
        let den = truePositives + falsePositives + falseNegatives
        return den == 0 ? bothEmpty : Double(truePositives) / Double(den)
    }

    /// TP/(TP+FP); NaN for an empty prediction.
    public var precision: Double { ratio(truePositives, predictedCount) }
    /// TP/(TP+FN) (sensitivity); NaN for an empty truth.
    public var recall: Double { ratio(truePositives, truthCount) }
    /// TN/(TN+FP); NaN when the truth covers everything.
    public var specificity: Double { ratio(trueNegatives, trueNegatives + falsePositives) }
    public var accuracy: Double { ratio(truePositives + trueNegatives, truePositives + falsePositives + falseNegatives + trueNegatives) }

    /// F_β = (1+β²)·TP/((1+β²)·TP + β²·FN + FP); F1 is Dice. NaN when both are empty.
    public func fScore(beta: Double) -> Double {
        let b2 = beta * beta
        let den = (1 + b2) * Double(truePositives) + b2 * Double(falseNegatives) + Double(falsePositives)
        return den == 0 ? .nan : (1 + b2) * Double(truePositives) / den
    }

    /// Relative volume difference (|A| − |G|)/|G|: signed, 0 when equal; +inf for an empty truth
    /// with a non-empty prediction, NaN when both are empty.
    public var relativeVolumeDifference: Double {
        let a = Double(predictedCount), g = Double(truthCount)
        if g == 0 { return a == 0 ? .nan : .infinity }
        return (a - g) / g
    }

    /// Absolute volume difference in physical units (|A| − |G|)·voxel volume.
    public func volumeDifference(voxelVolume: Double) -> Double {
        Double(predictedCount - truthCount) * voxelVolume
    }

    private func ratio(_ a: Int, _ b: Int) -> Double { b == 0 ? .nan : Double(a) / Double(b) }
}

func requireSameShape<A, B>(_ a: Grid<A>, _ b: Grid<B>) throws {
    guard a.shape == b.shape else {
        throw GeometryError.invalidShape("prediction shape \(a.shape) does not match truth shape \(b.shape)")
    }
}
