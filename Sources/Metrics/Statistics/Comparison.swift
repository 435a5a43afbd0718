import Foundation

/// One per-case value of a comparison: a variant's metric on one case of one (seed, fold) run.
public struct ComparisonObservation: Sendable, Equatable {
    public var variant: String
    public var seed: Int
    public var fold: Int
    public var caseID: String
    public var metric: String
    public var value: Double
    public init(variant: String, seed: Int, fold: Int, caseID: String, metric: String, value: Double) {
        self.variant = variant
        self.seed = seed
        self.fold = fold
        self.caseID = caseID
        self.metric = metric
        self.value = value
    }
}

/// The statistics of a method comparison over per-case metrics, every case × seed pooled over
/// folds: per variant mean, sd, median and a percentile bootstrap CI of the mean; per variant
/// against the reference the Wilcoxon signed-rank test on the cases both scored (paired by seed,
/// fold and case) with Holm's correction across variants × metrics, and effect sizes; per metric
/// the bootstrap rank stability. Non-finite values (an HD95 of an empty prediction) are left out
/// and counted.
public struct Comparison: Sendable, Codable, Equatable {
    public struct VariantSummary: Sendable, Codable, Equatable {
        public var variant: String
        public var n: Int
        public var nonFinite: Int
        public var mean: Double
        public var sd: Double
        public var median: Double
        public var ci: Bootstrap.Interval
    }

    public struct PairedTest: Sendable, Codable, Equatable {
        public var variant: String
        public var pairs: Int
        public var zeros: Int
        public var statistic: Double
        public var method: WilcoxonSignedRank.Method
        public var p: Double?
        /// Holm-adjusted across every test of the comparison (variants × metrics).
        public var pHolm: Double?
        public var medianDifference: Double
        public var rankBiserial: Double
        /// better, worse or no difference against the reference at `alpha` after Holm.
        public var verdict: String
    }

    public struct MetricResult: Sendable, Codable, Equatable {
        public var metric: String
        public var direction: String
        public var variants: [VariantSummary]
        public var tests: [PairedTest]
        /// rankFrequencies[v][r]: how often variant v (in `variants` order) ranked r + 1.
        public var rankFrequencies: [[Double]]
        /// The cases all variants scored, on which the ranks were resampled.
        public var rankedCases: Int
    }

    public var reference: String
    public var variants: [String]
    public var metrics: [MetricResult]
    public var confidence: Double
    public var alpha: Double
    public var resamples: Int
    public var rankResamples: Int
    public var seed: UInt64

    /// `variants` in report order (each must have observations); `reference` one of them.
    public static func analyse(_ observations: [ComparisonObservation], variants: [String], reference: String, metrics: [String],
                               confidence: Double = 0.95, alpha: Double = 0.05, resamples: Int = 10_000, rankResamples: Int = 1000,
                               seed: UInt64 = 0) throws -> Comparison {
        guard variants.contains(reference) else {
            throw MetricsStatisticsError("reference '\(reference)' is not among the variants compared (\(variants.joined(separator: ", ")))")
        }
        struct Key: Hashable { var seed: Int, fold: Int, caseID: String }
        var table: [String: [String: [Key: Double]]] = [:]  // metric → variant → key → value
        for o in observations { table[o.metric, default: [:]][o.variant, default: [:]][Key(seed: o.seed, fold: o.fold, caseID: o.caseID)] = o.value }
        var results: [MetricResult] = []
        for (mi, metric) in metrics.enumerated() {
            let direction = (try? MetricCatalog.info(metric))?.direction ?? .higherIsBetter
            let byVariant = table[metric] ?? [:]
            let summaries = variants.enumerated().map { vi, v -> VariantSummary in
                let all = (byVariant[v] ?? [:]).values
                let values = all.filter(\.isFinite)
                let ci = Bootstrap.percentileInterval(values, resampleCount: resamples,
                                                      seed: seed &+ UInt64(mi * 1000 + vi), confidence: confidence)
                return VariantSummary(variant: v, n: values.count, nonFinite: all.filter { !$0.isNaN && !$0.isFinite }.count,
                                      mean: Descriptive.mean(values), sd: Descriptive.standardDeviation(values),
                                      median: Descriptive.median(values), ci: ci)
            }
            let ref = byVariant[reference] ?? [:]
            let tests = try variants.filter { $0 != reference }.map { v -> PairedTest in
                let mine = byVariant[v] ?? [:]
                let keys = mine.keys.filter { k in mine[k]!.isFinite && (ref[k]?.isFinite ?? false) }
                let t = try WilcoxonSignedRank(differences: keys.map { mine[$0]! - ref[$0]! })
                return PairedTest(variant: v, pairs: t.pairs, zeros: t.zeros, statistic: t.statistic, method: t.method, p: t.pValue,
                                  pHolm: nil, medianDifference: t.medianDifference, rankBiserial: t.rankBiserial, verdict: "")
            }
            var common: Set<Key>?
            for v in variants {
                let finite = Set((byVariant[v] ?? [:]).filter { $0.value.isFinite }.keys)
                common = common.map { $0.intersection(finite) } ?? finite
            }
            let ordered = (common ?? []).sorted { ($0.seed, $0.fold, $0.caseID) < ($1.seed, $1.fold, $1.caseID) }
            let matrix = variants.map { v in ordered.map { byVariant[v]![$0]! } }
            let frequencies = RankStability.frequencies(matrix, direction: direction,
                                                        resamples: Bootstrap.resamples(n: ordered.count, count: rankResamples, seed: seed &+ UInt64(mi)))
            results.append(MetricResult(metric: metric, direction: direction.rawValue, variants: summaries, tests: tests,
                                        rankFrequencies: frequencies, rankedCases: ordered.count))
        }
        // Holm across every test of every metric.
        let flat = results.flatMap { $0.tests.map(\.p) }
        var adjusted = HolmCorrection.adjust(flat)[...]
        for r in results.indices {
            let direction = MetricDirection(rawValue: results[r].direction) ?? .higherIsBetter
            for t in results[r].tests.indices {
                var test = results[r].tests[t]
                test.pHolm = adjusted.removeFirst()
                test.verdict = verdict(test, direction: direction, alpha: alpha)
                results[r].tests[t] = test
            }
        }
        return Comparison(reference: reference, variants: variants, metrics: results, confidence: confidence, alpha: alpha,
                          resamples: resamples, rankResamples: rankResamples, seed: seed)
    }

    /// Which way the variant differs from the reference when the Holm-adjusted p is below
    /// alpha: the sign of R+ − R− (the rank-biserial) read through the metric's direction.
    static func verdict(_ t: PairedTest, direction: MetricDirection, alpha: Double) -> String {
        guard let p = t.pHolm else { return "not applicable" }
        guard p < alpha, !t.rankBiserial.isNaN, t.rankBiserial != 0 else { return "no difference" }
        let higher = t.rankBiserial > 0
        switch direction {
        case .higherIsBetter: return higher ? "better" : "worse"
        case .lowerIsBetter: return higher ? "worse" : "better"
        // A signed metric: the test of differences says nothing about |value|; report the direction only.
        case .closerToZero: return higher ? "higher" : "lower"
        }
    }

    /// A significance mark for a Holm-adjusted p: *** < 0.001, ** < 0.01, * < alpha, "" otherwise.
    public static func mark(_ pHolm: Double?, alpha: Double = 0.05) -> String {
        guard let p = pHolm else { return "" }
        return p < 0.001 ? "***" : p < 0.01 ? "**" : p < alpha ? "*" : ""
    }
}
