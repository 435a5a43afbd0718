import Geometry

/// Per-image intensity normalisation, applied before augmentation.
public enum Normalization: Sendable, Equatable {
    /// Leave values as read.
    case none
    /// Each channel to mean 0, standard deviation 1 (nnU-Net's default for MRI and the like).
    case zScore
    /// Clip each channel to its own [lower, upper] percentiles, then z-score (robust to outliers).
    case percentileClip(lower: Double, upper: Double)
    /// CT windowing: clip to [lower, upper] (e.g. Hounsfield units) and map that window to [0, 1].
    case window(lower: Float, upper: Float)
    /// nnU-Net's CT normalisation with dataset statistics: clip to [lower, upper], then (x − mean) / std.
    case ct(lower: Float, upper: Float, mean: Float, std: Float)
    /// Divide by `maximum` (255 for 8-bit RGB/gray photographs) to reach [0, 1].
    case unitRange(maximum: Float)

    /// Forms accepted by `init(parsing:)`.
    public static let names = ["none", "zscore", "percentile[:L,U]", "window:L,U", "ct:L,U,MEAN,STD", "rgb", "unit:MAX"]

    /// Parses `none`, `zscore`, `percentile` (0.5–99.5), `percentile:L,U`, `window:L,U`,
    /// `ct:L,U,MEAN,STD`, `rgb` (÷255) or `unit:MAX`.
    public init(parsing text: String) throws {
        let parts = text.split(separator: ":", maxSplits: 1).map(String.init)
        let head = parts.first?.lowercased() ?? ""
        let args = parts.count > 1 ? parts[1].split(separator: ",").map { Double($0.filter { $0 != " " }) } : []
        func numbers(_ n: Int) throws -> [Double] {
            guard args.count == n, args.allSatisfy({ $0 != nil && $0!.isFinite }) else {
                throw ImagingError("normalisation \"\(text)\": expected \(n) numbers after \"\(head):\"; valid forms: \(Normalization.names.joined(separator: ", "))")
            }
            return args.map { $0! }
        }
        switch head {
        case "none": self = .none
        case "zscore", "z-score": self = .zScore
        case "percentile":
            let v = parts.count > 1 ? try numbers(2) : [0.5, 99.5]
            guard 0 <= v[0], v[0] < v[1], v[1] <= 100 else { throw ImagingError("normalisation \"\(text)\": percentiles need 0 ≤ lower < upper ≤ 100") }
            self = .percentileClip(lower: v[0], upper: v[1])
        case "window":
            let v = try numbers(2)
            guard v[0] < v[1] else { throw ImagingError("normalisation \"\(text)\": window needs lower < upper") }
            self = .window(lower: Float(v[0]), upper: Float(v[1]))
        case "ct":
            let v = try numbers(4)
            guard v[0] < v[1], v[3] > 0 else { throw ImagingError("normalisation \"\(text)\": ct needs lower < upper and std > 0") }
            self = .ct(lower: Float(v[0]), upper: Float(v[1]), mean: Float(v[2]), std: Float(v[3]))
        case "rgb": self = .unitRange(maximum: 255)
        case "unit":
            let v = try numbers(1)
            guard v[0] > 0 else { throw ImagingError("normalisation \"\(text)\": the maximum must be > 0") }
            self = .unitRange(maximum: Float(v[0]))
        default:
            throw ImagingError("unknown normalisation \"\(text)\"; valid: \(Normalization.names.joined(separator: ", "))")
        }
    }

    public func apply(to sample: inout Sample) {
        for c in sample.image.indices { apply(to: &sample.image[c]) }
    }

    public func apply(to grid: inout Grid<Float>) {
        switch self {
        case .none: return
        case .zScore: Self.standardise(&grid.storage)
        case .percentileClip(let lo, let hi):
            let (a, b) = Self.percentiles(grid.storage, lo, hi)
            Self.map(&grid.storage) { Swift.min(b, Swift.max(a, $0)) }
            Self.standardise(&grid.storage)
        case .window(let lo, let hi):
            let scale = 1 / (hi - lo)
            Self.map(&grid.storage) { (Swift.min(hi, Swift.max(lo, $0)) - lo) * scale }
        case .ct(let lo, let hi, let mean, let std):
            let inv = 1 / std
            Self.map(&grid.storage) { (Swift.min(hi, Swift.max(lo, $0)) - mean) * inv }
        case .unitRange(let maximum):
            let inv = 1 / maximum
            Self.map(&grid.storage) { $0 * inv }
        }
    }

    @inline(__always) static func map(_ values: inout [Float], _ f: (Float) -> Float) {
        values.withUnsafeMutableBufferPointer { p in for i in p.indices { p[i] = f(p[i]) } }
    }

    /// Mean 0, std 1 (population std, accumulated in Double); a constant channel becomes 0.
    static func standardise(_ values: inout [Float]) {
        guard !values.isEmpty else { return }
        let (mean, std) = meanStd(values)
        let m = Float(mean), inv = Float(std > 1e-12 ? 1 / std : 1)
        map(&values) { ($0 - m) * inv }
    }

    static func meanStd(_ values: [Float]) -> (Double, Double) {
        values.withUnsafeBufferPointer { VoxelMath.meanStd($0) }
    }

    /// numpy's default ("linear") percentiles.
    static func percentiles(_ values: [Float], _ lo: Double, _ hi: Double) -> (Float, Float) {
        guard !values.isEmpty else { return (0, 0) }
        let sorted = values.sorted()
        func at(_ q: Double) -> Float {
            let pos = q / 100 * Double(sorted.count - 1)
            let i = Int(pos), f = Float(pos - Double(i))
            return i + 1 < sorted.count ? sorted[i] * (1 - f) + sorted[i + 1] * f : sorted[i]
        }
        return (at(lo), at(hi))
    }
}
