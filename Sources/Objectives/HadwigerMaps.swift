import Foundation
import Torch

/// The local Hadwiger maps of HadBalance (Gao et al.; METHODS §3.2–3.4): area, perimeter
/// (boundary-length density) and Euler-characteristic density of probabilities at scale δ.
///
/// Inputs are (N, C, H, W) or (N, C, D, H, W) probabilities; every channel is treated on its own.
/// All maps are differentiable. The 2D maps follow the official code's conventions exactly
/// (pooling with padding ⌊δ/2⌋ and `count_include_pad`, so even δ gives (H+1)×(W+1) area and
/// perimeter maps while χ is cropped or padded to H×W). The 3D maps are a [reconstruction]:
/// avgpool3d, a 3D Gaussian and Sobel magnitude, and the octant χ of 6-connectivity.
public struct HadwigerMaps: Sendable {
    /// Sharpening temperature of the perimeter branch (> 0).
    public var tau: Double
    /// Gaussian blur σ of the perimeter branch; ≤ 0 means no blur.
    public var sigma: Double
    /// Probability clamp (perimeter and χ) and the Sobel-magnitude ε.
    public var eps: Double

    public init(tau: Double = 0.5, sigma: Double = 1.0, eps: Double = 1e-6) throws {
        guard tau > 0, tau.isFinite else { throw ObjectiveError("Hadwiger 'tau' must be a number > 0, got \(tau)") }
        guard sigma.isFinite else { throw ObjectiveError("Hadwiger 'sigma' must be a finite number, got \(sigma)") }
        guard eps > 0, eps < 0.5 else { throw ObjectiveError("Hadwiger 'eps' must be a number in (0, 0.5), got \(eps)") }
        self.tau = tau
        self.sigma = sigma
        self.eps = eps
    }

    /// A_δ = avgpool_δ(p).
    public func area(_ p: Tensor, delta: Int) throws -> Tensor {
        try Self.check(p, delta: delta)
        return try Self.pool(p, delta)
    }

    /// P_δ = avgpool_δ(sqrt(|Sobel(blur(sharpen(clamp(p))))|² + ε)).
    public func perimeter(_ p: Tensor, delta: Int) throws -> Tensor {
        try Self.check(p, delta: delta)
        return try Self.pool(perimeterDensity(p), delta)
    }

    /// χ_δ: the bit-quad (octant) χ density of the interior windows, pooled, then cropped or
    /// zero-padded at the end of each axis to the input size.
    public func euler(_ p: Tensor, delta: Int) throws -> Tensor {
        try Self.check(p, delta: delta)
        guard p.shape.dropFirst(2).allSatisfy({ $0 >= 2 }) else {
            throw ObjectiveError("the Hadwiger Euler map needs every spatial size ≥ 2, got shape \(p.shape)")
        }
        return try Self.fit(Self.pool(eulerWindows(p), delta), to: Array(p.shape.dropFirst(2)))
    }

    /// The boundary-length density before pooling (same shape as `p`).
    public func perimeterDensity(_ p: Tensor) throws -> Tensor {
        let s = p.rank - 2
        let q = try p.clamp(min: eps, max: 1 - eps)
        // σ(logit(q)/τ), the official sharpening.
        var x = try ((q.log() - (1.0 - q).log()) / tau).sigmoid()
        let shape = p.shape, n = shape[0] * shape[1]
        x = try x.reshape([n, 1] + Array(shape.dropFirst(2)))
        if sigma > 0 {
            let g = try Self.gaussian(sigma).to(p.device, dtype: p.dtype)
            let r = g.shape[0] / 2
            // Last axis first, as the official horizontal-then-vertical passes.
            for axis in (0..<s).reversed() {
                var k = Array(repeating: 1, count: s), pad = Array(repeating: 0, count: s)
                k[axis] = g.shape[0]
                pad[axis] = r
                x = try x.conv(weight: g.reshape([1, 1] + k), padding: pad)
            }
        }
        let grads = try x.conv(weight: Self.sobel(s).to(p.device, dtype: p.dtype), padding: [1])
        let density = try (grads.square().sum(dims: [1], keepDim: true) + eps).sqrt()
        return try density.reshape(shape)
    }

    /// Per interior 2×2 (2×2×2) window, the χ density of the soft configuration:
    /// 2D (a+b+c+d)/4 − (ab+cd+ac+bd)/2 + abcd, which equals (Q1 − Q3 + 2·QD)/4 (METHODS §3.4);
    /// 3D V/8 − E/4 + F/2 − C over the octant's voxels, edges, faces and cube.
    public func eulerWindows(_ p: Tensor) throws -> Tensor {
        let s = p.rank - 2
        let q = try p.clamp(min: eps, max: 1 - eps)
        // corner[c] is the voxel at offset c (0/1 per axis) of every window.
        var corner: [[Int]: Tensor] = [:]
        for bits in 0..<(1 << s) {
            let c = (0..<s).map { (bits >> (s - 1 - $0)) & 1 }
            var t = q
            for (axis, o) in c.enumerated() {
                t = try t.narrow(dim: axis + 2, start: o, length: p.shape[axis + 2] - 1)
            }
            corner[c] = t
        }
        let keys = corner.keys.sorted { $0.lexicographicallyPrecedes($1) }
        var vertices = corner[keys[0]]!
        for k in keys.dropFirst() { vertices = vertices + corner[k]! }
        var edges: Tensor?
        for (i, a) in keys.enumerated() {
            for b in keys[(i + 1)...] where zip(a, b).filter({ $0 != $1 }).count == 1 {
                let e = corner[a]! * corner[b]!
                edges = edges.map { $0 + e } ?? e
            }
        }
        let all = keys.dropFirst().reduce(corner[keys[0]]!) { $0 * corner[$1]! }
        if s == 2 { return vertices / 4.0 - edges! / 2.0 + all }
        var faces: Tensor?
        for axis in 0..<3 {
            for side in 0...1 {
                let quad = keys.filter { $0[axis] == side }
                let f = quad.dropFirst().reduce(corner[quad[0]]!) { $0 * corner[$1]! }
                faces = faces.map { $0 + f } ?? f
            }
        }
        return vertices / 8.0 - edges! / 4.0 + faces! / 2.0 - all
    }

    static func check(_ p: Tensor, delta: Int) throws {
        guard (2...3).contains(p.rank - 2) else {
            throw ObjectiveError("Hadwiger maps need (N, C, H, W) or (N, C, D, H, W) probabilities, got shape \(p.shape)")
        }
        guard delta >= 1 else { throw ObjectiveError("a Hadwiger scale δ must be an integer ≥ 1, got \(delta)") }
    }

    /// avgpool, kernel δ, stride 1, padding ⌊δ/2⌋, count_include_pad. The zero padding is explicit
    /// because libtorch's 3D pooling rejects inputs smaller than the kernel even when padded.
    static func pool(_ x: Tensor, _ delta: Int) throws -> Tensor {
        let h = delta / 2
        let padded = h == 0 ? x : try x.pad(Array(repeating: h, count: 2 * (x.rank - 2)))
        return try padded.avgPool(kernel: [delta], stride: [1])
    }

    /// Crops, or zero-pads at the end, each spatial axis to `size`.
    static func fit(_ x: Tensor, to size: [Int]) throws -> Tensor {
        var y = x
        var pad: [Int] = []
        for (i, n) in size.enumerated() {
            let have = y.shape[i + 2]
            if have > n { y = try y.narrow(dim: i + 2, start: 0, length: n) }
            pad = [0, Swift.max(0, n - have)] + pad
        }
        return pad.allSatisfy({ $0 == 0 }) ? y : try y.pad(pad)
    }

    /// exp(−t²/(2σ²)) on t = −⌈3σ⌉…⌈3σ⌉, normalised to sum 1.
    static func gaussian(_ sigma: Double) throws -> Tensor {
        let r = Int((3 * sigma).rounded(.up))
        let g = (-r...r).map { Foundation.exp(-0.5 * Double($0 * $0) / (sigma * sigma)) }
        let total = g.reduce(0, +)
        return try Tensor(g.map { $0 / total }, shape: [g.count])
    }

    /// One output channel per axis: derivative [1, 0, −1] along it, smoothing [1, 2, 1] along the others.
    static func sobel(_ s: Int) throws -> Tensor {
        let deriv: [Double] = [1, 0, -1], smooth: [Double] = [1, 2, 1]
        var w: [Double] = []
        for axis in 0..<s {
            for flat in 0..<Int(Foundation.pow(3.0, Double(s))) {
                var v = 1.0, rest = flat
                for a in (0..<s).reversed() {
                    let i = rest % 3
                    rest /= 3
                    v *= a == axis ? deriv[i] : smooth[i]
                }
                w.append(v)
            }
        }
        return try Tensor(w, shape: [s, 1] + Array(repeating: 3, count: s))
    }
}
