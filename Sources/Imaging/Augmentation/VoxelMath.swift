/// Reductions and elementwise functions over Float buffers written so the compiler vectorises
/// them (SIMD lanes, no libm calls, no branches in the loop): the per-voxel work of the
/// intensity augmentations and normalisation.
enum VoxelMath {
    /// Mean and population standard deviation, accumulated in Double (8 lanes, two passes).
    static func meanStd(_ p: UnsafeBufferPointer<Float>) -> (Double, Double) {
        let n = p.count
        guard n > 0, let base = p.baseAddress else { return (0, 0) }
        let raw = UnsafeRawPointer(base)
        var lanes = SIMD8<Double>(), i = 0
        while i + 8 <= n {
            lanes += SIMD8<Double>(raw.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self))
            i += 8
        }
        var sum = lanes.sum()
        while i < n { sum += Double(p[i]); i += 1 }
        let mean = sum / Double(n)
        let m = SIMD8<Double>(repeating: mean)
        lanes = SIMD8<Double>()
        i = 0
        while i + 8 <= n {
            let d = SIMD8<Double>(raw.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)) - m
            lanes += d * d
            i += 8
        }
        var sq = lanes.sum()
        while i < n { let d = Double(p[i]) - mean; sq += d * d; i += 1 }
        return (mean, (sq / Double(n)).squareRoot())
    }

    /// Smallest and largest value ((0, 0) when empty); NaNs are skipped.
    static func extrema(_ p: UnsafeBufferPointer<Float>) -> (Float, Float) {
        let n = p.count
        guard n > 0, let base = p.baseAddress else { return (0, 0) }
        let raw = UnsafeRawPointer(base)
        var lo = SIMD8<Float>(repeating: .infinity), hi = SIMD8<Float>(repeating: -.infinity), i = 0
        while i + 8 <= n {
            let x = raw.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
            lo.replace(with: x, where: x .< lo)
            hi.replace(with: x, where: x .> hi)
            i += 8
        }
        var l = lo.min(), h = hi.max()
        while i < n {
            if p[i] < l { l = p[i] }
            if p[i] > h { h = p[i] }
            i += 1
        }
        return (l, h)
    }

    /// u^γ for u in [0, 1] and γ > 0 as 2^(γ·log2 u) (relative error ≈ 1e-6, no table, no libm
    /// call): 0 ↦ 0 (as every u below the smallest normal float), 1 ↦ 1.
    @inline(__always) static func power01(_ u: Float, _ gamma: Float) -> Float {
        let r = exp2(Swift.max(-126, gamma * log2(u)))
        return u >= Float.leastNormalMagnitude ? r : 0
    }

    /// log2 u for a normal u > 0 by a polynomial on the float's bits: u = 2^e · m, m in [√½, √2),
    /// log2 m = 2/ln2 · atanh(s) with s = (m − 1)/(m + 1) (series to s⁹; |error| ≈ 1e-7).
    @inline(__always) static func log2(_ u: Float) -> Float {
        let shifted = u.bitPattern &+ 0x004A_FB0D  // moves the exponent's step from 1 to √½: 0x3F800000 − 0x3F3504F3
        let e = Float(Int32(bitPattern: shifted >> 23) &- 127)
        let m = Float(bitPattern: (shifted & 0x007F_FFFF) &+ 0x3F35_04F3)
        let s = (m - 1) / (m + 1), s2 = s * s
        return e + s * (2.885_390_08 + s2 * (0.961_796_69 + s2 * (0.577_078_02 + s2 * (0.412_198_57 + s2 * 0.320_598_52))))
    }

    /// 2^y for y in [−126, 0]: y = k + f with k = round(y) (the 1.5·2^23 trick), 2^f by its
    /// Taylor series to degree 7 (relative error ≈ 1e-7).
    @inline(__always) static func exp2(_ y: Float) -> Float {
        let shifted = y + 12_582_912
        let k = Int32(bitPattern: shifted.bitPattern &- 0x4B40_0000)
        let t = (y - (shifted - 12_582_912)) * 0.693_147_18
        let scale = Float(bitPattern: UInt32(bitPattern: (k &+ 127) &<< 23))
        return scale * (1 + t * (1 + t * (0.5 + t * (0.166_666_67 + t * (0.041_666_67 + t * (0.008_333_33 + t * (0.001_388_89 + t * 0.000_198_41)))))))
    }
}
