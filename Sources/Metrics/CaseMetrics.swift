import Geometry

/// Settings shared by every case of an evaluation.
public struct CaseMetricsOptions: Sendable {
    /// Overrides the grids' spacing (axis order) for distances.
    public var spacing: [Double]?
    /// BFScore tolerance in physical units; nil is 0.75 % of the grid diagonal.
    public var boundaryTolerance: Double?
    public var hausdorffPercentile: Double = 95
    public var percentileConvention: SurfaceDistances.PercentileConvention = .monai
    public var averageConvention: SurfaceDistances.AverageConvention = .pooled
    /// Dice/IoU when prediction and truth are both empty (NaN, or 1).
    public var bothEmptyOverlap: Double = .nan
    public var gudhiCompatibleBetti = false
    /// Betti errors and clDice (skeletons); off to save time on large 3D volumes.
    public var topology = true
    /// ConDSeg's conventions (`SmoothedOverlap`): Dice, IoU, precision, recall, accuracy and F2
    /// with 1e-15 smoothing instead of NaN for empty masks.
    public var condsegConventions = false

    public init() {}
}

/// One row of an evaluation: a case and a foreground label. NaN means "not defined" (e.g. both
/// masks empty); distances are +inf when exactly one mask is empty.
public struct CaseMetricsRow: Sendable, Equatable, Codable {
    public var caseName: String
    public var label: Int
    public var dice = Double.nan
    public var iou = Double.nan
    public var precision = Double.nan
    public var recall = Double.nan
    public var specificity = Double.nan
    public var relativeVolumeDifference = Double.nan
    public var bfscore = Double.nan
    public var betti0Error = Double.nan
    public var betti1Error = Double.nan
    /// NaN in 2D.
    public var betti2Error = Double.nan
    public var cldice = Double.nan
    public var hd = Double.nan
    public var hd95 = Double.nan
    public var assd = Double.nan
    /// Fraction of voxels where prediction and truth agree.
    public var accuracy = Double.nan
    /// F_β with β = 2 (recall weighted higher).
    public var f2 = Double.nan
    /// |roundness(A) − roundness(G)| (4πA/P² of the whole mask; HadBalance's shape measure). NaN in 3D or when a mask is empty.
    public var roundnessError = Double.nan

    public init(caseName: String, label: Int) {
        self.caseName = caseName
        self.label = label
    }

    /// The metric columns, in report order, with their JSON/CSV names.
    public static let columns: [(name: String, value: KeyPath<CaseMetricsRow, Double>)] = [
        ("dice", \.dice), ("iou", \.iou), ("precision", \.precision), ("recall", \.recall),
        ("specificity", \.specificity), ("volume_difference", \.relativeVolumeDifference),
        ("bfscore", \.bfscore), ("betti0_error", \.betti0Error), ("betti1_error", \.betti1Error),
        ("betti2_error", \.betti2Error), ("cldice", \.cldice), ("hd", \.hd), ("hd95", \.hd95), ("assd", \.assd),
        ("accuracy", \.accuracy), ("f2", \.f2), ("roundness_error", \.roundnessError),
    ]
}

public enum CaseMetrics {
    /// Rows for each of `labels` (default: every non-zero value in either map), in label order.
    public static func evaluate<T: BinaryInteger>(caseName: String, prediction: Grid<T>, truth: Grid<T>,
                                                  labels: [Int]? = nil,
                                                  options: CaseMetricsOptions = CaseMetricsOptions()) throws -> [CaseMetricsRow] {
        try requireSameShape(prediction, truth)
        let wanted: [Int]
        if let labels {
            wanted = labels
        } else {
            var present = Set<Int>()
            for v in prediction.storage where v != 0 { present.insert(Int(v)) }
            for v in truth.storage where v != 0 { present.insert(Int(v)) }
            wanted = present.sorted()
        }
        return try wanted.map { label in
            let a = prediction.map { Int($0) == label }, g = truth.map { Int($0) == label }
            return try evaluate(caseName: caseName, label: label, prediction: a, truth: g, options: options)
        }
    }

    /// The row of one binary pair.
    public static func evaluate(caseName: String, label: Int, prediction: Grid<Bool>, truth: Grid<Bool>,
                                options: CaseMetricsOptions = CaseMetricsOptions()) throws -> CaseMetricsRow {
        var row = CaseMetricsRow(caseName: caseName, label: label)
        let spacing = options.spacing ?? truth.spacing
        let counts = try ConfusionCounts(prediction: prediction, truth: truth)
        row.dice = counts.dice(bothEmpty: options.bothEmptyOverlap)
        row.iou = counts.iou(bothEmpty: options.bothEmptyOverlap)
        row.precision = counts.precision
        row.recall = counts.recall
        row.specificity = counts.specificity
        row.accuracy = counts.accuracy
        row.f2 = counts.fScore(beta: 2)
        if options.condsegConventions {
            let s = SmoothedOverlap(counts)
            (row.dice, row.iou, row.precision, row.recall, row.accuracy, row.f2) = (s.f1, s.jaccard, s.precision, s.recall, s.accuracy, s.f2)
        }
        row.relativeVolumeDifference = counts.relativeVolumeDifference
        if truth.rank == 2 { row.roundnessError = abs(try Roundness.circularity(prediction) - Roundness.circularity(truth)) }
        row.bfscore = try BoundaryFScore(prediction: prediction, truth: truth, tolerance: options.boundaryTolerance,
                                         spacing: spacing).f1
        let sd = try SurfaceDistances(prediction: prediction, truth: truth, spacing: spacing)
        row.hd = sd.hausdorff
        row.hd95 = sd.hausdorff(percentile: options.hausdorffPercentile, convention: options.percentileConvention)
        row.assd = sd.averageSymmetric(convention: options.averageConvention)
        if options.topology {
            let betti = try BettiErrors(prediction: prediction, truth: truth, gudhiCompatible: options.gudhiCompatibleBetti)
            row.betti0Error = Double(betti.b0)
            row.betti1Error = Double(betti.b1)
            if truth.rank == 3 { row.betti2Error = Double(betti.b2) }
            row.cldice = try ClDiceScore(prediction: prediction, truth: truth).clDice
        }
        return row
    }

    /// The row of `label` in a case where neither mask holds it (shape and spacing of the case):
    /// NaN overlap and distances (undefined), 0 Betti errors, as every label of a both-empty case.
    public static func absent(caseName: String, label: Int, shape: [Int], spacing: [Double]?,
                              options: CaseMetricsOptions = CaseMetricsOptions()) throws -> CaseMetricsRow {
        let empty = Grid<Bool>(shape: shape, spacing: spacing, repeating: false)
        return try evaluate(caseName: caseName, label: label, prediction: empty, truth: empty, options: options)
    }

    /// Every case with a row for every label: a case that lacks a label of `labels` (or, when nil,
    /// of the labels any case has; label 1 when none has one) in both masks gets the `absent` row,
    /// instead of vanishing from the table (MONAI/nnU-Net keep such cases, with NaN).
    public static func keepingEveryCase(_ cases: [(name: String, shape: [Int], spacing: [Double]?, rows: [CaseMetricsRow])],
                                        labels: [Int]? = nil, options: CaseMetricsOptions = CaseMetricsOptions()) throws -> [CaseMetricsRow] {
        var wanted = labels ?? Set(cases.flatMap { $0.rows.map(\.label) }).sorted()
        if wanted.isEmpty { wanted = [1] }
        var out: [CaseMetricsRow] = []
        for c in cases {
            var rows = c.rows
            for label in wanted where !rows.contains(where: { $0.label == label }) {
                var o = options
                o.spacing = options.spacing ?? c.spacing
                rows.append(try absent(caseName: c.name, label: label, shape: c.shape, spacing: c.spacing, options: o))
            }
            out += rows.sorted { $0.label < $1.label }
        }
        return out
    }

    /// A summary per metric column (NaN skipped), in column order.
    public static func summarize(_ rows: [CaseMetricsRow]) -> [(name: String, summary: Summary)] {
        CaseMetricsRow.columns.map { column in (column.name, Summary(rows.map { $0[keyPath: column.value] })) }
    }
}
