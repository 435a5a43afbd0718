/// The ratio of two arms timed in interleaved rounds: the mean of the per-round ratios
/// a[i]/b[i] with a two-sided 95 % Student-t interval (rounds share machine state, so the
/// per-round ratio cancels drift that separate medians would not).
struct RatioInterval {
    let mean: Double
    let low: Double
    let high: Double

    init(_ a: [Double], _ b: [Double]) {
        let r = zip(a, b).map { $0 / $1 }
        let n = Double(r.count)
        let m = r.reduce(0, +) / n
        let sd = r.count > 1 ? (r.reduce(0) { $0 + ($1 - m) * ($1 - m) } / (n - 1)).squareRoot() : 0
        let half = r.count > 1 ? Self.t975(degrees: r.count - 1) * sd / n.squareRoot() : 0
        mean = m
        low = m - half
        high = m + half
    }

    /// The 97.5 % quantile of Student's t (table to 30 degrees of freedom, then the normal's 1.96 + a 1/df correction).
    static func t975(degrees df: Int) -> Double {
        let table = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145, 2.131,
                     2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042]
        return df <= table.count ? table[max(df, 1) - 1] : 1.96 + 2.4 / Double(df)
    }
}
