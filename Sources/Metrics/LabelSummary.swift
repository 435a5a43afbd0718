/// The summaries of one foreground label over cases. Pooling rows of different labels mixes easy
/// and hard structures into one number, so tables report each label and then the foreground
/// mean (the mean of the labels' means, as nnU-Net's `foreground_mean`).
public struct LabelSummary: Sendable, Equatable {
    public var label: Int
    public var name: String
    /// One summary per metric column (NaN skipped), in `CaseMetricsRow.columns` order.
    public var metrics: [(name: String, summary: Summary)]

    public init(label: Int, name: String, metrics: [(name: String, summary: Summary)]) {
        self.label = label
        self.name = name
        self.metrics = metrics
    }

    public subscript(metric: String) -> Summary? { metrics.first { $0.name == metric }?.summary }

    /// One summary per label present in `rows`, in label order.
    public static func perLabel(_ rows: [CaseMetricsRow], names: LabelNames = LabelNames()) -> [LabelSummary] {
        Set(rows.map(\.label)).sorted().map { label in
            LabelSummary(label: label, name: names.name(of: label),
                         metrics: CaseMetrics.summarize(rows.filter { $0.label == label }))
        }
    }

    /// Per metric, the mean over labels of each label's mean; labels where the metric is undefined
    /// (no valid case) are left out, and a metric undefined for every label is NaN.
    public static func foregroundMean(_ labels: [LabelSummary]) -> [(name: String, mean: Double)] {
        CaseMetricsRow.columns.map { column in
            let means = labels.compactMap { $0[column.name] }.filter { $0.n > 0 }.map(\.mean)
            return (column.name, means.isEmpty ? .nan : means.reduce(0, +) / Double(means.count))
        }
    }

    public static func == (a: LabelSummary, b: LabelSummary) -> Bool {
        a.label == b.label && a.name == b.name && a.metrics.count == b.metrics.count
            && zip(a.metrics, b.metrics).allSatisfy { $0.name == $1.name && $0.summary == $1.summary }
    }
}
