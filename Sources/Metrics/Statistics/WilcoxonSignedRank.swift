import Foundation

/// The Wilcoxon signed-rank test of paired differences d = x − y (two-sided), as
/// `scipy.stats.wilcoxon(x, y, zero_method="wilcox", correction=False)`: zero differences are
/// dropped, the |d| ranked with ties averaged. With at most 50 non-zero differences and neither
/// ties nor zeros the p-value is exact (the null distribution of R+ by counting sign patterns);
/// otherwise it is the normal approximation with the tie correction of the variance. Fewer than
/// `minimumPairs` pairs is not a test ("not applicable"): six pairs is the fewest whose exact
/// two-sided p-value can fall below 0.05.
public struct WilcoxonSignedRank: Sendable, Equatable {
    public enum Method: String, Sendable, Codable {
        case exact
        case normal
        /// Too few pairs, or every difference zero: no p-value.
        case notApplicable = "not applicable"
    }

    public static let minimumPairs = 6
    public static let exactLimit = 50

    /// Pairs with both values defined.
    public var pairs: Int
    /// Pairs whose difference is zero (left out of the ranks).
    public var zeros: Int
    public var rankSumPositive: Double
    public var rankSumNegative: Double
    /// scipy's statistic: min(R+, R−).
    public var statistic: Double { Swift.min(rankSumPositive, rankSumNegative) }
    /// The standardised R+ of the normal approximation (NaN for the exact test).
    public var z: Double
    /// Two-sided p-value; nil when not applicable.
    public var pValue: Double?
    public var method: Method
    /// The median of the differences x − y (zeros included).
    public var medianDifference: Double
    /// The matched-pairs rank-biserial correlation (R+ − R−)/(R+ + R−) ∈ [−1, 1] (Kerby 2014):
    /// +1 when every non-zero difference is positive. NaN when every difference is zero.
    public var rankBiserial: Double

    /// Pairs where either value is NaN are left out.
    public init(_ x: [Double], _ y: [Double]) throws {
        guard x.count == y.count else {
            throw MetricsStatisticsError("Wilcoxon signed-rank test: \(x.count) values against \(y.count); the samples must be paired")
        }
        let d = zip(x, y).filter { !$0.0.isNaN && !$0.1.isNaN }.map { $0.0 - $0.1 }
        try self.init(differences: d)
    }

    public init(differences all: [Double]) throws {
        if all.contains(where: \.isNaN) {
            throw MetricsStatisticsError("Wilcoxon signed-rank test: a difference is NaN; leave out undefined pairs first")
        }
        if all.contains(where: \.isInfinite) {
            throw MetricsStatisticsError("Wilcoxon signed-rank test: a difference is infinite (an undefined distance?); leave those pairs out")
        }
        pairs = all.count
        medianDifference = Descriptive.median(all)
        let d = all.filter { $0 != 0 }
        zeros = all.count - d.count
        let (ranks, tieGroups) = Self.averageRanks(d.map(Swift.abs))
        var plus = 0.0, minus = 0.0
        for (r, v) in zip(ranks, d) { if v > 0 { plus += r } else { minus += r } }
        rankSumPositive = plus
        rankSumNegative = minus
        rankBiserial = plus + minus > 0 ? (plus - minus) / (plus + minus) : .nan
        let n = Double(d.count)
        let mean = n * (n + 1) / 4
        let tieTerm = tieGroups.reduce(0.0) { $0 + Double($1 * $1 * $1 - $1) }
        let sd = ((n * (n + 1) * (2 * n + 1) - tieTerm / 2) / 24).squareRoot()
        guard all.count >= Self.minimumPairs, !d.isEmpty else {
            z = .nan; pValue = nil; method = .notApplicable
            return
        }
        if d.count <= Self.exactLimit && zeros == 0 && !tieGroups.contains(where: { $0 > 1 }) {
            method = .exact
            z = .nan
            pValue = Self.exactPValue(rankSumPositive: plus, n: d.count)
        } else {
            method = .normal
            z = (plus - mean) / sd
            pValue = Swift.min(1, erfc(Swift.abs(z) / 2.0.squareRoot()))
        }
    }

    /// Ranks 1…n of `values` with ties given their average rank, and the size of each tie group.
    static func averageRanks(_ values: [Double]) -> (ranks: [Double], groups: [Int]) {
        let order = values.indices.sorted { values[$0] < values[$1] }
        var ranks = [Double](repeating: 0, count: values.count)
        var groups: [Int] = []
        var i = 0
        while i < order.count {
            var j = i
            while j + 1 < order.count && values[order[j + 1]] == values[order[i]] { j += 1 }
            let r = Double(i + j + 2) / 2
            for k in i...j { ranks[order[k]] = r }
            groups.append(j - i + 1)
            i = j + 1
        }
        return (ranks, groups)
    }

    /// P(R+ = k) for k = 0 … n(n+1)/2 under the null (each sign ±, independent): the number of
    /// subsets of {1…n} with sum k over 2ⁿ.
    static func nullDistribution(n: Int) -> [Double] {
        let top = n * (n + 1) / 2
        var counts = [Double](repeating: 0, count: top + 1)
        counts[0] = 1
        if n > 0 {
            for r in 1...n {
                for k in stride(from: r * (r + 1) / 2, through: r, by: -1) { counts[k] += counts[k - r] }
            }
        }
        let total = pow(2.0, Double(n))
        return counts.map { $0 / total }
    }

    /// 2 · min(P(R+ ≥ r), P(R+ ≤ r)), clipped to 1 (scipy's exact two-sided p).
    static func exactPValue(rankSumPositive r: Double, n: Int) -> Double {
        let pmf = nullDistribution(n: n)
        let mean = Double(n * (n + 1)) / 4
        let lo = Int(r.rounded(.up)), hi = Int(r.rounded(.down))
        // The same sums as scipy's WilcoxonDistribution (the same rounding).
        func sum(_ from: Int, _ to: Int) -> Double {
            let a = Swift.max(from, 0), b = Swift.min(to, pmf.count - 1)
            return a > b ? 0 : pmf[a...b].reduce(0, +)
        }
        func cdf(_ k: Int) -> Double { Double(k) <= mean ? sum(0, k) : 1 - sum(k + 1, pmf.count) }
        func sf(_ k: Int) -> Double { Double(k) <= mean ? sum(k, pmf.count) : 1 - sum(0, k - 1) }
        return Swift.min(1, 2 * Swift.min(sf(hi), cdf(lo)))
    }
}

/// A statistics input that cannot be tested (mismatched samples, undefined values).
public struct MetricsStatisticsError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
