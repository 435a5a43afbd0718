#if canImport(Glibc)
import Glibc
#endif
import Geometry

/// Intensity augmentations (nnU-Net's set). Each applies to a sample with its `probability`;
/// parameters are drawn from the given ranges with the sample's generator — per channel where
/// nnU-Net v2 draws per channel (`synchronize_channels=False`: brightness, contrast, gamma, blur,
/// low resolution), once per sample for the noise's variance.
public enum IntensityTransform: Sendable, Equatable {
    /// Adds N(0, σ²) noise with σ² drawn from `variance` (`GaussianNoise`: vectorised Box–Muller).
    case gaussianNoise(probability: Double, variance: ClosedRange<Double>)
    /// Gaussian blur with σ (voxels) drawn per channel (and axis) from `sigma`; each channel is
    /// blurred with `perChannelProbability`.
    case gaussianBlur(probability: Double, sigma: ClosedRange<Double>, perChannelProbability: Double)
    /// Multiplies each channel by its own factor from `range`.
    case brightness(probability: Double, range: ClosedRange<Double>)
    /// Scales deviations from the channel mean by the channel's own factor from `range`; `preserveRange`
    /// clips back to the channel's former min/max.
    case contrast(probability: Double, range: ClosedRange<Double>, preserveRange: Bool)
    /// x ↦ min + (max−min)·((x−min)/(max−min))^γ, γ drawn per channel from `range` (half the time
    /// below 1 when the range straddles 1); `invert` works on −x; `retainStats` restores mean and std.
    case gamma(probability: Double, range: ClosedRange<Double>, invert: Bool, retainStats: Bool)
    /// Nearest-neighbour downsampling by a zoom from `zoom`, then linear upsampling back.
    case lowResolution(probability: Double, zoom: ClosedRange<Double>, perChannelProbability: Double)
    /// albumentations' CoarseDropout with its minimum sizes unset: `holes` boxes of `size` voxels
    /// per side (clipped to the image) at uniform positions, set to `fill` in every channel;
    /// labels untouched.
    case coarseDropout(probability: Double, holes: Int, size: Int, fill: Float)
    /// torchvision's `gaussian_blur`: a kernel of `size` taps per axis (1 leaves the axis alone;
    /// ConDSeg's (1, 7) is [7, 1] here, vertical only), one σ drawn from `sigma` for every axis
    /// and channel, reflect padding.
    case kernelBlur(probability: Double, sigma: ClosedRange<Double>, size: [Int])

    public func apply(to sample: inout Sample, using rng: inout SeededGenerator) {
        let fire = Double.random(in: 0..<1, using: &rng) < probability
        guard fire else { return }
        switch self {
        case .gaussianNoise(_, let variance):
            let sigma = Float(Double.random(in: variance, using: &rng).squareRoot())
            for c in sample.image.indices {
                sample.image[c].storage.withUnsafeMutableBufferPointer { p in GaussianNoise.add(to: p, sigma: sigma, using: &rng) }
            }
        case .gaussianBlur(_, let sigma, let perChannel):
            for c in sample.image.indices {
                guard Double.random(in: 0..<1, using: &rng) < perChannel else { continue }
                let s = (0..<sample.rank).map { _ in Double.random(in: sigma, using: &rng) }
                let shape = sample.shape
                sample.image[c].storage.withUnsafeMutableBufferPointer { GaussianSmoothing.smooth($0, shape: shape, sigma: s) }
            }
        case .brightness(_, let range):
            for c in sample.image.indices {
                let f = Float(Double.random(in: range, using: &rng))
                Normalization.map(&sample.image[c].storage) { $0 * f }
            }
        case .contrast(_, let range, let preserve):
            for c in sample.image.indices {
                let f = Float(Double.random(in: range, using: &rng))
                let (mean, _) = Normalization.meanStd(sample.image[c].storage)
                let m = Float(mean)
                let (lo, hi) = Self.extrema(sample.image[c].storage)
                if preserve {
                    Normalization.map(&sample.image[c].storage) { Swift.min(hi, Swift.max(lo, ($0 - m) * f + m)) }
                } else {
                    Normalization.map(&sample.image[c].storage) { ($0 - m) * f + m }
                }
            }
        case .gamma(_, let range, let invert, let retain):
            for c in sample.image.indices {
                let g: Double
                if range.lowerBound < 1 && range.upperBound > 1 && Double.random(in: 0..<1, using: &rng) < 0.5 {
                    g = Double.random(in: range.lowerBound...1, using: &rng)
                } else {
                    g = Double.random(in: Swift.max(range.lowerBound, 1)...range.upperBound, using: &rng)
                }
                let gamma = Float(g)
                let sign: Float = invert ? -1 : 1
                let (mean, std) = Normalization.meanStd(sample.image[c].storage)
                let (a, b) = Self.extrema(sample.image[c].storage)
                let lo = invert ? -b : a, span = (b - a) + 1e-7, inv = 1 / span
                // x^γ by polynomials on the float's bits (VoxelMath.power01): vectorises, unlike powf.
                Normalization.map(&sample.image[c].storage) { x in
                    let u = Swift.min(1, Swift.max(0, (sign * x - lo) * inv))
                    return sign * (VoxelMath.power01(u, gamma) * span + lo)
                }
                if retain {
                    let (m2, s2) = Normalization.meanStd(sample.image[c].storage)
                    let k = Float(s2 > 1e-12 ? std / s2 : 1), m2f = Float(m2), mf = Float(mean)
                    Normalization.map(&sample.image[c].storage) { ($0 - m2f) * k + mf }
                }
            }
        case .lowResolution(_, let zoom, let perChannel):
            for c in sample.image.indices {
                guard Double.random(in: 0..<1, using: &rng) < perChannel else { continue }
                let z = Double.random(in: zoom, using: &rng)
                sample.image[c] = Self.simulateLowResolution(sample.image[c], zoom: z)
            }
        case .kernelBlur(_, let sigma, let size):
            let s = Double.random(in: sigma, using: &rng), shape = sample.shape
            for c in sample.image.indices {
                sample.image[c].storage.withUnsafeMutableBufferPointer { p in
                    for (axis, taps) in size.enumerated() where taps > 1 && axis < shape.count {
                        GaussianSmoothing.convolve(p, shape: shape, axis: axis, kernel: GaussianSmoothing.torchvisionKernel(size: taps, sigma: s))
                    }
                }
            }
        case .coarseDropout(_, let holes, let size, let fill):
            let shape = sample.shape
            let extent = shape.map { Swift.min(size, $0) }
            for _ in 0..<holes {
                let origin = zip(shape, extent).map { Int.random(in: 0...($0 - $1), using: &rng) }
                for c in sample.image.indices { Self.fillBox(&sample.image[c], origin: origin, extent: extent, value: fill) }
            }
        }
    }

    /// Sets the box [origin, origin + extent) of a 2D or 3D grid to `value`.
    static func fillBox(_ g: inout Grid<Float>, origin: [Int], extent: [Int], value: Float) {
        let shape = g.shape, rank = g.rank
        let (o, e) = rank == 2 ? ([0] + origin, [1] + extent) : (origin, extent)
        let (h, w) = (shape[rank - 2], shape[rank - 1])
        g.storage.withUnsafeMutableBufferPointer { p in
            for z in o[0]..<(o[0] + e[0]) {
                for y in o[1]..<(o[1] + e[1]) {
                    let row = (z * h + y) * w
                    for x in o[2]..<(o[2] + e[2]) { p[row + x] = value }
                }
            }
        }
    }

    public var probability: Double {
        switch self {
        case .gaussianNoise(let p, _), .gaussianBlur(let p, _, _), .brightness(let p, _), .contrast(let p, _, _),
             .gamma(let p, _, _, _), .lowResolution(let p, _, _), .coarseDropout(let p, _, _, _), .kernelBlur(let p, _, _): return p
        }
    }

    static func extrema(_ v: [Float]) -> (Float, Float) {
        v.withUnsafeBufferPointer { VoxelMath.extrema($0) }
    }

    static func simulateLowResolution(_ g: Grid<Float>, zoom: Double) -> Grid<Float> {
        let small = g.shape.map { Swift.max(1, Int((Double($0) * zoom).rounded())) }
        // Down: nearest, sampling voxel centres of the small grid in source coordinates.
        let down = try! Grid(shape: small, storage: Interpolator.nearest(g, axes: axisCoordinates(outShape: small, inShape: g.shape)))
        // Up: linear, clamped inside the small grid so borders do not fade to 0.
        let up = axisCoordinates(outShape: g.shape, inShape: small, clamp: true)
        return try! Grid(shape: g.shape, spacing: g.spacing, storage: Interpolator.linear(down, axes: up))
    }

    /// Per axis: centre-aligned coordinates of `outShape`'s voxels in a grid of `inShape`.
    static func axisCoordinates(outShape: [Int], inShape: [Int], clamp: Bool = false) -> [[Float]] {
        (0..<outShape.count).map { a in
            let s = Float(inShape[a]) / Float(outShape[a])
            return (0..<outShape[a]).map { i in
                let v = (Float(i) + 0.5) * s - 0.5
                return clamp ? Swift.min(Float(inShape[a] - 1), Swift.max(0, v)) : v
            }
        }
    }
}

extension SeededGenerator {
    /// Uniform in [0, 1) with 24 bits, for per-voxel draws.
    @inline(__always) mutating func unitFloat() -> Float { Float(next() >> 40) * (1 / Float(1 << 24)) }

    /// Adds N(0, σ²) to every element (Marsaglia's polar method, both outputs used): the demo
    /// data's noise; augmentation uses the vectorised `GaussianNoise`.
    mutating func addGaussian(to p: UnsafeMutableBufferPointer<Float>, sigma: Float) {
        var i = 0
        while i < p.count {
            let bits = next()
            let u = Float(bits >> 40) * (2 / Float(1 << 24)) - 1
            let v = Float((bits >> 16) & 0xFF_FFFF) * (2 / Float(1 << 24)) - 1
            let s = u * u + v * v
            if s >= 1 || s == 0 { continue }
            let m = (-2 * logf(s) / s).squareRoot() * sigma
            p[i] += u * m
            if i + 1 < p.count { p[i + 1] += v * m }
            i += 2
        }
    }
}
