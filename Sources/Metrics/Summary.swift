/// Summary statistics of a metric over cases; NaN values (undefined, e.g. Dice of two empty
/// masks) are skipped in the mean, std and median — nnU-Net's `np.nanmean` — but counted in
/// `undefined`, so a table still shows every case; +inf values are kept (a mean involving +inf
/// is +inf, as in MONAI/nnU-Net tables).
public struct Summary: Sendable, Equatable {
    public var mean: Double
    public var std: Double
    public var median: Double
    /// Number of valid (non-NaN) values.
    public var n: Int
    /// Number of NaN values left out of the statistics.
    public var undefined: Int

    public init(_ values: [Double]) {
        let valid = values.filter { !$0.isNaN }.sorted()
        n = valid.count
        undefined = values.count - valid.count
        guard n > 0 else { mean = .nan; std = .nan; median = .nan; return }
        let m = valid.reduce(0, +) / Double(n)
        mean = m
        if valid.contains(where: { $0.isInfinite }) {
            std = .nan
        } else {
            // Population standard deviation (numpy's default ddof=0).
            std = (valid.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(n)).squareRoot()
        }
        median = n % 2 == 1 ? valid[n / 2] : (valid[n / 2 - 1] + valid[n / 2]) / 2
    }
}
