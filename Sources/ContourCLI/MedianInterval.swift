/// The median of per-round values (ratios of two interleaved arms) with a distribution-free
/// 95 % interval from order statistics: [r₍ₗ₎, r₍ₙ₊₁₋ₗ₎] with the largest l such that
/// P(Binomial(n, ½) < l) ≤ 2.5 %. Below 6 rounds no such l exists; the interval is then
/// [min, max] and `coverage` says what it covers (1 − 2·0.5ⁿ).
struct MedianInterval {
    let median: Double
    let low: Double
    let high: Double
    /// The interval's coverage probability for the median (≥ 0.95 from 6 rounds on).
    let coverage: Double

    init(_ values: [Double]) {
        let s = values.sorted(), n = s.count
        guard n > 0 else {
            (median, low, high, coverage) = (.nan, .nan, .nan, 0)
            return
        }
        median = ContourCLI.median(s)
        // cdf[k] = P(X ≤ k), X ~ Binomial(n, 1/2).
        var pmf = 1.0 / Double(1 << min(n, 62)), cdf: [Double] = []
        var total = 0.0
        for k in 0...n {
            if k > 0 { pmf *= Double(n - k + 1) / Double(k) }
            total += pmf
            cdf.append(total)
        }
        var l = 1
        for candidate in 1...max(1, n / 2) where cdf[candidate - 1] <= 0.025 { l = candidate }
        low = s[l - 1]
        high = s[n - l]
        coverage = 1 - 2 * cdf[l - 1]
    }

    /// Whether the interval reaches further than ±`fraction` of the median.
    func isWider(than fraction: Double) -> Bool { high > median * (1 + fraction) || low < median * (1 - fraction) }
}

/// The median of `v` (the mean of the two middle values for an even count; NaN when empty).
func median(_ v: [Double]) -> Double {
    let s = v.sorted()
    return s.isEmpty ? .nan : (s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2)
}
