/// Summary of foreground intensities of one channel (nnU-Net's fingerprint fields).
public struct IntensityStatistics: Sendable, Codable, Equatable {
    public var mean: Double
    public var sd: Double
    public var median: Double
    public var min: Double
    public var max: Double
    public var percentile00_5: Double
    public var percentile99_5: Double

    /// Population statistics (numpy's `std`, linear-interpolation `percentile`); nil for no values.
    public init?(_ values: [Float]) {
        guard !values.isEmpty else { return nil }
        let sorted = values.map(Double.init).sorted()
        let n = Double(sorted.count)
        let mean = sorted.reduce(0, +) / n
        self.mean = mean
        self.sd = (sorted.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / n).squareRoot()
        self.median = Self.percentile(sorted, 50)
        self.min = sorted[0]
        self.max = sorted[sorted.count - 1]
        self.percentile00_5 = Self.percentile(sorted, 0.5)
        self.percentile99_5 = Self.percentile(sorted, 99.5)
    }

    /// numpy's default (linear) percentile of ascending `sorted` values.
    public static func percentile(_ sorted: [Double], _ p: Double) -> Double {
        let rank = p / 100 * Double(sorted.count - 1)
        let lo = Int(rank.rounded(.down)), hi = Swift.min(lo + 1, sorted.count - 1)
        return sorted[lo] + (rank - Double(lo)) * (sorted[hi] - sorted[lo])
    }
}
