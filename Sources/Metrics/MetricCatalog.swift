import Geometry

/// Which way a metric improves.
public enum MetricDirection: String, Sendable, Equatable {
    case higherIsBetter = "higher"
    case lowerIsBetter = "lower"
    /// Signed metrics whose ideal is 0 (relative volume difference): smaller |value| is better.
    case closerToZero = "closer to zero"
}

/// A metric of `CaseMetricsRow`: its column name, which way is better and what it measures.
public struct MetricInfo: Sendable, Equatable {
    public var name: String
    public var direction: MetricDirection
    public var summary: String
}

/// Every metric `CaseMetrics` produces, named as in its rows, CSV and JSON summaries. Configuration
/// (`run.bestMetric`) and checkpoint selection read directions from here rather than hard-coding them.
public enum MetricCatalog {
    public static let all: [MetricInfo] = [
        MetricInfo(name: "dice", direction: .higherIsBetter, summary: "Dice overlap 2|A∩G|/(|A|+|G|)"),
        MetricInfo(name: "iou", direction: .higherIsBetter, summary: "intersection over union |A∩G|/|A∪G| (Jaccard)"),
        MetricInfo(name: "precision", direction: .higherIsBetter, summary: "fraction of the predicted voxels that are true, TP/(TP+FP)"),
        MetricInfo(name: "recall", direction: .higherIsBetter, summary: "fraction of the true voxels that are predicted, TP/(TP+FN)"),
        MetricInfo(name: "specificity", direction: .higherIsBetter, summary: "fraction of the background predicted as background, TN/(TN+FP)"),
        MetricInfo(name: "volume_difference", direction: .closerToZero, summary: "signed relative volume difference (|A|−|G|)/|G|"),
        MetricInfo(name: "bfscore", direction: .higherIsBetter, summary: "boundary F1 score within a distance tolerance"),
        MetricInfo(name: "betti0_error", direction: .lowerIsBetter, summary: "|β0(A)−β0(G)|: difference in connected components"),
        MetricInfo(name: "betti1_error", direction: .lowerIsBetter, summary: "|β1(A)−β1(G)|: difference in holes (2D) or tunnels (3D)"),
        MetricInfo(name: "betti2_error", direction: .lowerIsBetter, summary: "|β2(A)−β2(G)|: difference in cavities (3D only)"),
        MetricInfo(name: "cldice", direction: .higherIsBetter, summary: "centreline Dice: skeleton precision and recall combined"),
        MetricInfo(name: "hd", direction: .lowerIsBetter, summary: "Hausdorff distance between the surfaces, physical units"),
        MetricInfo(name: "hd95", direction: .lowerIsBetter, summary: "95th-percentile Hausdorff distance, physical units"),
        MetricInfo(name: "assd", direction: .lowerIsBetter, summary: "average symmetric surface distance, physical units"),
        MetricInfo(name: "accuracy", direction: .higherIsBetter, summary: "fraction of voxels where prediction and truth agree, (TP+TN)/N"),
        MetricInfo(name: "f2", direction: .higherIsBetter, summary: "F2 score 5·TP/(5·TP+4·FN+FP): recall weighted above precision"),
    ]

    /// The names, in report order.
    public static var names: [String] { all.map(\.name) }

    /// Landmark metrics (`LandmarkReport`): selectable as `run.bestMetric` on data with landmarks.
    public static let landmark: [MetricInfo] = [
        MetricInfo(name: "mre", direction: .lowerIsBetter, summary: "mean radial error of the landmarks, mm"),
    ]

    /// Every metric a run can select by (segmentation columns, then landmark metrics).
    public static var selectableNames: [String] { names + landmark.map(\.name) }

    public static func info(_ name: String) throws -> MetricInfo {
        if name.hasPrefix("sdr_"), Double(name.dropFirst(4)) != nil {
            return MetricInfo(name: name, direction: .higherIsBetter, summary: "landmarks within \(name.dropFirst(4)) mm, %")
        }
        guard let found = (all + landmark).first(where: { $0.name == name }) else {
            throw GeometryError.invalidArgument("unknown metric '\(name)'; known metrics: \(selectableNames.joined(separator: ", "))")
        }
        return found
    }

    public static func direction(of name: String) throws -> MetricDirection { try info(name).direction }

    /// Whether `a` is strictly better than `b` for `metric`. NaN is never better, and any
    /// non-NaN value is better than NaN, so an undefined value can never hold a place.
    public static func isBetter(_ a: Double, than b: Double, metric: String) throws -> Bool {
        let direction = try direction(of: metric)
        if a.isNaN { return false }
        if b.isNaN { return true }
        switch direction {
        case .higherIsBetter: return a > b
        case .lowerIsBetter: return a < b
        case .closerToZero: return abs(a) < abs(b)
        }
    }

    /// Whether a new validation `value` replaces `best` (nil: nothing chosen yet). A NaN never
    /// becomes best, and a NaN best (from an older checkpoint) never blocks a later finite value.
    public static func becomesBest(_ value: Double, over best: (value: Double, epoch: Int)?, metric: String) throws -> Bool {
        guard let best else {
            _ = try direction(of: metric)
            return !value.isNaN
        }
        return try isBetter(value, than: best.value, metric: metric)
    }
}
