import NeuralNet
import Torch

/// Turns predicted heatmaps into landmark coordinates (voxel indices in numpy axis order).
///
/// - `argmax` (BaBLoss's official, §5.1): the voxel of each channel's maximum (the first in
///   row-major order on ties, as torch/numpy argmax).
/// - `softargmax`: the heatmap-weighted centroid of the (2w+1)^d window around that voxel
///   (clipped at the image border; negative values weigh 0), a sub-voxel estimate.
/// - `quadratic`: per axis, the vertex of the parabola through the peak and its two neighbours,
///   offset clamped to ±0.5 voxel; 0 at the border or where the three values are not concave.
///
/// The volume-wide argmax runs in libtorch; only the small window around each peak comes back.
public struct LandmarkExtraction: Sendable, Equatable {
    public enum Method: String, Sendable, CaseIterable { case argmax, softargmax, quadratic }
    public var method: Method
    /// Half-width of the soft-argmax window, in voxels.
    public var window: Int

    public init(method: Method = .argmax, window: Int = 2) {
        self.method = method
        self.window = window
    }

    /// From `evaluation.landmarks: {extraction, window}` options.
    public init(options: Options) throws {
        let m = try options.string("extraction", default: Method.argmax.rawValue, allowed: Method.allCases.map(\.rawValue))
        method = Method(rawValue: m)!
        window = try options.int("window", default: 2, requirement: "an integer from 1 to 16") { (1...16).contains($0) }
        try options.finish()
    }

    /// One point per channel of `heatmaps`, shaped (K, spatial…) or (1, K, spatial…).
    public func points(_ heatmaps: Tensor) throws -> [[Double]] {
        var h = heatmaps
        if h.rank >= 4 && h.shape[0] == 1 { h = try h.squeeze(dim: 0) }
        guard h.rank == 3 || h.rank == 4 else {
            throw TrainingError("landmark extraction: expected heatmaps (K, spatial…) of a 2D or 3D image, got shape \(heatmaps.shape)")
        }
        let k = h.shape[0], spatial = Array(h.shape.dropFirst())
        let flat = try h.reshape([k, -1]).argmax(dim: 1).to(.cpu).ints()
        var strides = [Int](repeating: 1, count: spatial.count)
        for a in stride(from: spatial.count - 2, through: 0, by: -1) { strides[a] = strides[a + 1] * spatial[a + 1] }
        return try (0..<k).map { c in
            let peak = zip(strides, spatial).map { s, n in (flat[c] / s) % n }
            switch method {
            case .argmax: return peak.map(Double.init)
            case .softargmax: return try centroid(h.select(dim: 0, index: c), peak: peak, spatial: spatial)
            case .quadratic: return try parabola(h.select(dim: 0, index: c), peak: peak, spatial: spatial)
            }
        }
    }

    /// The window [peak − r, peak + r] ∩ image of one channel, as float values with its origin and extent.
    func patch(_ map: Tensor, peak: [Int], spatial: [Int], radius r: Int) throws -> (values: [Float], lo: [Int], size: [Int]) {
        var sub = map
        var lo: [Int] = [], size: [Int] = []
        for a in 0..<spatial.count {
            let l = Swift.max(0, peak[a] - r), u = Swift.min(spatial[a] - 1, peak[a] + r)
            sub = try sub.narrow(dim: a, start: l, length: u - l + 1)
            lo.append(l)
            size.append(u - l + 1)
        }
        return (try sub.contiguous().to(.cpu, dtype: .float32).floats(), lo, size)
    }

    func centroid(_ map: Tensor, peak: [Int], spatial: [Int]) throws -> [Double] {
        let (values, lo, size) = try patch(map, peak: peak, spatial: spatial, radius: window)
        var total = 0.0
        var sum = [Double](repeating: 0, count: spatial.count)
        for (i, v) in values.enumerated() where v > 0 {
            var rest = i
            for a in stride(from: spatial.count - 1, through: 0, by: -1) {
                sum[a] += Double(v) * Double(lo[a] + rest % size[a])
                rest /= size[a]
            }
            total += Double(v)
        }
        guard total > 0 else { return peak.map(Double.init) }
        return sum.map { $0 / total }
    }

    func parabola(_ map: Tensor, peak: [Int], spatial: [Int]) throws -> [Double] {
        let (values, lo, size) = try patch(map, peak: peak, spatial: spatial, radius: 1)
        var strides = [Int](repeating: 1, count: spatial.count)
        for a in stride(from: spatial.count - 2, through: 0, by: -1) { strides[a] = strides[a + 1] * size[a + 1] }
        let centre = zip(zip(peak, lo), strides).map { pl, s in (pl.0 - pl.1) * s }.reduce(0, +)
        return (0..<spatial.count).map { a in
            let p = peak[a]
            guard p > 0, p < spatial[a] - 1 else { return Double(p) }
            let f0 = Double(values[centre]), fm = Double(values[centre - strides[a]]), fp = Double(values[centre + strides[a]])
            let curvature = fm - 2 * f0 + fp
            guard curvature < 0 else { return Double(p) }
            return Double(p) + Swift.min(0.5, Swift.max(-0.5, 0.5 * (fm - fp) / curvature))
        }
    }
}
