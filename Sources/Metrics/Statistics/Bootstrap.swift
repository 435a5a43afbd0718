import Geometry

/// Percentile bootstrap confidence intervals (Efron): resample the cases with replacement, take
/// the statistic of each resample, report the α/2 and 1 − α/2 quantiles of those statistics
/// (`scipy.stats.bootstrap(method="percentile")`). Resamples are index lists, so paired data
/// (several variants measured on the same cases) are resampled together.
public enum Bootstrap {
    public struct Interval: Sendable, Equatable, Codable {
        public var lower: Double
        public var upper: Double
        public init(lower: Double, upper: Double) {
            self.lower = lower
            self.upper = upper
        }
    }

    /// `count` resamples of `n` indices in 0..<n, reproducible for a seed (SplitMix64).
    public static func resamples(n: Int, count: Int, seed: UInt64) -> [[Int]] {
        guard n > 0 else { return [] }
        var generator = SeededGenerator(seed: seed)
        return (0..<count).map { _ in (0..<n).map { _ in Int.random(in: 0..<n, using: &generator) } }
    }

    /// The percentile interval of `statistic` over `resamples` of `values` at `confidence`
    /// (quantiles interpolated linearly, as scipy). NaN bounds when there is nothing to resample.
    public static func percentileInterval(_ values: [Double], resamples: [[Int]], confidence: Double = 0.95,
                                          statistic: ([Double]) -> Double = Descriptive.mean) -> Interval {
        guard !values.isEmpty, !resamples.isEmpty else { return Interval(lower: .nan, upper: .nan) }
        let distribution = resamples.map { idx in statistic(idx.map { values[$0] }) }
        let finite = distribution.filter { !$0.isNaN }.sorted()
        let alpha = (1 - confidence) / 2
        return Interval(lower: Descriptive.quantile(sorted: finite, alpha), upper: Descriptive.quantile(sorted: finite, 1 - alpha))
    }

    /// The same with `resampleCount` seeded resamples.
    public static func percentileInterval(_ values: [Double], resampleCount: Int = 10_000, seed: UInt64,
                                          confidence: Double = 0.95) -> Interval {
        percentileInterval(values, resamples: resamples(n: values.count, count: resampleCount, seed: seed), confidence: confidence)
    }
}
