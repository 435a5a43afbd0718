import Foundation

/// Mean, sample standard deviation, median and quantiles of a sample (NaN values skipped).
public enum Descriptive {
    public static func mean(_ values: [Double]) -> Double {
        let v = values.filter { !$0.isNaN }
        return v.isEmpty ? .nan : v.reduce(0, +) / Double(v.count)
    }

    /// The sample standard deviation (n − 1 in the denominator, numpy's `ddof=1`): the spread of
    /// a variant's cases as a paper reports it. NaN below two values.
    public static func standardDeviation(_ values: [Double]) -> Double {
        let v = values.filter { !$0.isNaN }
        guard v.count > 1 else { return .nan }
        let m = v.reduce(0, +) / Double(v.count)
        return (v.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(v.count - 1)).squareRoot()
    }

    public static func median(_ values: [Double]) -> Double { quantile(values, 0.5) }

    /// The quantile at `q` ∈ [0, 1] by linear interpolation between order statistics (Hyndman &
    /// Fan type 7, numpy's and `scipy.stats.quantile`'s default).
    public static func quantile(_ values: [Double], _ q: Double) -> Double {
        quantile(sorted: values.filter { !$0.isNaN }.sorted(), q)
    }

    /// `quantile` of values already sorted ascending (no NaN).
    public static func quantile(sorted v: [Double], _ q: Double) -> Double {
        guard !v.isEmpty else { return .nan }
        let h = Double(v.count - 1) * Swift.min(Swift.max(q, 0), 1)
        let lo = Int(h.rounded(.down)), hi = Swift.min(lo + 1, v.count - 1)
        let f = h - Double(lo)
        if f == 0 || v[lo] == v[hi] { return v[lo] }
        return v[lo] + f * (v[hi] - v[lo])
    }
}
