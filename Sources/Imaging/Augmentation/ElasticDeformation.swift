#if canImport(Glibc)
import Glibc
#endif
import Geometry

/// Elastic deformation: a smooth random displacement field (uniform noise in [−1, 1] per axis,
/// Gaussian-smoothed with σ voxels, then scaled so its largest displacement is `magnitude`
/// voxels). `SpatialTransform` adds it to the output coordinates before rotation/scaling.
public struct ElasticDeformation: Sendable, Equatable {
    public var probability: Double
    /// Largest displacement, in output voxels.
    public var magnitude: ClosedRange<Double>
    /// Smoothness of the field, in output voxels.
    public var sigma: ClosedRange<Double>

    public init(probability: Double = 0.2, magnitude: ClosedRange<Double> = 2...6, sigma: ClosedRange<Double> = 6...10) {
        self.probability = probability
        self.magnitude = magnitude
        self.sigma = sigma
    }

    /// One displacement field per axis, each of `shape`.
    public func field(shape: [Int], using rng: inout SeededGenerator) -> [[Float]] {
        let n = shape.reduce(1, *)
        let s = Double.random(in: sigma, using: &rng), mag = Double.random(in: magnitude, using: &rng)
        return shape.indices.map { _ in
            var f = [Float](repeating: 0, count: n)
            f.withUnsafeMutableBufferPointer { p in
                for i in 0..<n { p[i] = Float(rng.next() >> 40) * (2 / Float(1 << 24)) - 1 }
                GaussianSmoothing.smooth(p, shape: shape, sigma: Array(repeating: s, count: shape.count))
                var peak: Float = 0
                for v in p { peak = Swift.max(peak, Swift.abs(v)) }
                let k = peak > 0 ? Float(mag) / peak : 0
                for i in 0..<n { p[i] *= k }
            }
            return f
        }
    }

    /// Solves o + d(o) = q for o by fixed-point iteration (d linearly interpolated, clamped at the
    /// border); converges because a smooth field's gradient is well below 1.
    static func invert(_ q: [Double], field: [[Float]], shape: [Int]) -> [Double] {
        var o = q
        for _ in 0..<50 {
            let d = displacement(at: o, field: field, shape: shape)
            var change = 0.0
            for a in 0..<q.count {
                let next = q[a] - d[a]
                change = Swift.max(change, Swift.abs(next - o[a]))
                o[a] = next
            }
            if change < 1e-9 { break }
        }
        return o
    }

    static func displacement(at p: [Double], field: [[Float]], shape: [Int]) -> [Double] {
        let rank = shape.count
        var lo = [Int](repeating: 0, count: rank), t = [Double](repeating: 0, count: rank)
        for a in 0..<rank {
            let c = Swift.min(Double(shape[a] - 1), Swift.max(0, p[a]))
            lo[a] = Swift.min(shape[a] - 2, Int(c.rounded(.down)))
            if shape[a] == 1 { lo[a] = 0 }
            t[a] = shape[a] == 1 ? 0 : c - Double(lo[a])
        }
        var strides = [Int](repeating: 1, count: rank)
        for a in stride(from: rank - 2, through: 0, by: -1) { strides[a] = strides[a + 1] * shape[a + 1] }
        var out = [Double](repeating: 0, count: rank)
        for corner in 0..<(1 << rank) {
            var w = 1.0, offset = 0
            for a in 0..<rank {
                let bit = (corner >> (rank - 1 - a)) & 1
                if bit == 1 && shape[a] == 1 { w = 0; break }
                w *= bit == 1 ? t[a] : 1 - t[a]
                offset += (lo[a] + bit) * strides[a]
            }
            if w == 0 { continue }
            for a in 0..<rank { out[a] += w * Double(field[a][offset]) }
        }
        return out
    }
}
