/// How stable a ranking of variants is (as challenge-ranking tools report it): on each bootstrap
/// resample of the paired cases every variant is ranked by its mean (1 = best; ties share the
/// better rank), and the result is how often each variant took each rank.
public enum RankStability {
    /// `values[v][c]`: variant v on paired case c (NaN skipped in a mean). Returns
    /// `frequencies[v][r]`, the fraction of resamples where variant v ranked r + 1.
    public static func frequencies(_ values: [[Double]], direction: MetricDirection, resamples: [[Int]]) -> [[Double]] {
        let k = values.count
        var counts = [[Double]](repeating: [Double](repeating: 0, count: k), count: k)
        guard !resamples.isEmpty else { return counts }
        for idx in resamples {
            let means = values.map { v in Descriptive.mean(idx.map { v[$0] }) }
            for r in ranks(means, direction: direction).enumerated() { counts[r.offset][r.element - 1] += 1 }
        }
        return counts.map { $0.map { $0 / Double(resamples.count) } }
    }

    /// Rank of each score, 1 = best, ties sharing the smallest rank ("min"), NaN last.
    public static func ranks(_ scores: [Double], direction: MetricDirection) -> [Int] {
        func key(_ s: Double) -> Double {
            if s.isNaN { return .infinity }
            switch direction {
            case .higherIsBetter: return -s
            case .lowerIsBetter: return s
            case .closerToZero: return Swift.abs(s)
            }
        }
        let keys = scores.map(key)
        return keys.map { k in 1 + keys.filter { $0 < k }.count }
    }
}
