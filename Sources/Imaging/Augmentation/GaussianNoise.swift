import Geometry

/// Gaussian noise for the noise augmentation, vectorised: Box–Muller on blocks of uniforms, with
/// the logarithm and the sine/cosine by polynomials (no libm calls, no rejection loop), so the
/// per-element loop compiles to SIMD. Marsaglia's polar method (`SeededGenerator.addGaussian`,
/// still used by the demo data) draws the same distribution but with a branch and a `logf` per pair.
enum GaussianNoise {
    /// Pairs per block: the uniforms of a block are drawn first (the generator is sequential),
    /// then the block is transformed in one vectorised pass.
    static let block = 256

    /// Adds N(0, σ²) to every element. One 64-bit draw gives two 24-bit uniforms u₁ ∈ (0, 1] and
    /// u₂ ∈ [0, 1); with r = √(−2 ln u₁) the block's first half gets r·cos 2πu₂ and its second
    /// half r·sin 2πu₂ (independent standard normals). |z| ≤ √(48 ln 2) ≈ 5.77 (the 24-bit
    /// uniforms' tail, as the polar method's); each z is the exact transform of its uniforms
    /// within ≈ 1e-6·(1 + |z|) (the polynomials' error, checked in FusedAugmentationTests).
    static func add(to p: UnsafeMutableBufferPointer<Float>, sigma: Float, using rng: inout SeededGenerator) {
        guard let base = p.baseAddress else { return }
        withUnsafeTemporaryAllocation(of: Float.self, capacity: 2 * block) { u in
            let u1 = u.baseAddress!, u2 = u.baseAddress! + block
            var start = 0
            while start < p.count {
                let pairs = Swift.min(block, (p.count - start + 1) / 2)
                for k in 0..<pairs {
                    let bits = rng.next()
                    u1[k] = Float(Int32(truncatingIfNeeded: bits >> 40) &+ 1) * (1 / Float(1 << 24))
                    u2[k] = Float(Int32(truncatingIfNeeded: (bits >> 16) & 0xFF_FFFF)) * (1 / Float(1 << 24))
                }
                // The last block may hold an odd count: its second half is one shorter.
                let first = base + start, second = base + start + pairs, secondCount = Swift.min(pairs, p.count - start - pairs)
                for k in 0..<secondCount {
                    let (c, s) = cosSin2Pi(u2[k])
                    let r = radius(u1[k]) * sigma
                    first[k] += r * c
                    second[k] += r * s
                }
                for k in secondCount..<pairs { first[k] += radius(u1[k]) * sigma * cosSin2Pi(u2[k]).0 }
                start += 2 * pairs
            }
        }
    }

    /// √(−2 ln u) for u in (0, 1] (ln by `VoxelMath.log2`).
    @inline(__always) static func radius(_ u: Float) -> Float {
        (Swift.max(0, -2 * 0.693_147_18 * VoxelMath.log2(u))).squareRoot()
    }

    /// (cos 2πx, sin 2πx) for x in [0, 1): the half angle φ = π(x − round(x)) ∈ [−π/2, π/2] by
    /// Taylor polynomials (sin to φ¹¹, cos to φ¹²: error < 1e-7), then the double-angle formulas.
    @inline(__always) static func cosSin2Pi(_ x: Float) -> (Float, Float) {
        let shifted = x + 12_582_912  // round to nearest by the 1.5·2^23 trick (no libm call)
        let phi = (x - (shifted - 12_582_912)) * 3.141_592_65
        let p2 = phi * phi
        let s = phi * (1 + p2 * (-1.0 / 6 + p2 * (1.0 / 120 + p2 * (-1.0 / 5040 + p2 * (1.0 / 362_880 + p2 * (-1.0 / 39_916_800))))))
        let c = 1 + p2 * (-0.5 + p2 * (1.0 / 24 + p2 * (-1.0 / 720 + p2 * (1.0 / 40320 + p2 * (-1.0 / 3_628_800 + p2 * (1.0 / 479_001_600))))))
        return (c * c - s * s, 2 * s * c)
    }
}
