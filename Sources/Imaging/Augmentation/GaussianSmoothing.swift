#if canImport(Glibc)
import Glibc
#endif

/// Separable Gaussian filtering of a row-major 2D/3D buffer in place (borders replicate the
/// edge value, like scipy's mode="nearest"). Used by blur, elastic fields and the demo data.
enum GaussianSmoothing {
    /// Kernel truncated at 3σ (at least radius 1), normalised to sum 1.
    static func kernel(sigma: Double, maxRadius: Int = 64) -> [Float] {
        let radius = Swift.min(maxRadius, Swift.max(1, Int((3 * sigma).rounded(.up))))
        var k = (-radius...radius).map { Float(exp(-Double($0 * $0) / (2 * sigma * sigma))) }
        let sum = k.reduce(0, +)
        for i in k.indices { k[i] /= sum }
        return k
    }

    /// torchvision's `_get_gaussian_kernel1d`: `size` taps at −(size−1)/2 … (size−1)/2, normalised.
    static func torchvisionKernel(size: Int, sigma: Double) -> [Float] {
        let half = Double(size - 1) / 2
        let pdf = (0..<size).map { exp(-0.5 * pow((Double($0) - half) / sigma, 2)) }
        let total = pdf.reduce(0, +)
        return pdf.map { Float($0 / total) }
    }

    /// Convolves `data` of `shape` along `axis` with an odd `kernel`, reflect padding (torch's
    /// "reflect": the edge sample is not repeated); whole rows at a time, so it vectorises.
    static func convolve(_ data: UnsafeMutableBufferPointer<Float>, shape: [Int], axis: Int, kernel: [Float]) {
        let n = shape.reduce(1, *), len = shape[axis]
        guard n > 0, len > 1, let base = data.baseAddress else { return }
        let inner = shape[(axis + 1)...].reduce(1, *), outer = n / (len * inner), r = kernel.count / 2
        func reflect(_ i: Int) -> Int {
            var i = i
            let period = 2 * (len - 1)
            i = ((i % period) + period) % period
            return i < len ? i : period - i
        }
        kernel.withUnsafeBufferPointer { k in
            convolveRows(base, len: len, inner: inner, outer: outer, kernel: k, source: { reflect($0 - r) })
        }
    }

    /// Convolves along an axis of `len` samples, `inner` contiguous values apart, whole rows at a
    /// time (vectorises); `source(i + t)` is the row read for output row i and tap t (the border rule).
    private static func convolveRows(_ base: UnsafeMutablePointer<Float>, len: Int, inner: Int, outer: Int,
                                     kernel k: UnsafeBufferPointer<Float>, source: (Int) -> Int) {
        var slab = [Float](repeating: 0, count: len * inner)
        slab.withUnsafeMutableBufferPointer { slab in
            for o in 0..<outer {
                let block = base + o * len * inner
                slab.baseAddress!.update(from: block, count: len * inner)
                for i in 0..<len {
                    let dst = block + i * inner
                    dst.update(repeating: 0, count: inner)
                    for t in 0..<k.count {
                        let w = k[t], src = slab.baseAddress! + source(i + t) * inner
                        for x in 0..<inner { dst[x] += w * src[x] }
                    }
                }
            }
        }
    }

    /// Smooths `data` of `shape` along each axis whose sigma is > 0.
    static func smooth(_ data: UnsafeMutableBufferPointer<Float>, shape: [Int], sigma: [Double]) {
        let n = shape.reduce(1, *)
        guard n > 0, let base = data.baseAddress else { return }
        var strides = Array(repeating: 1, count: shape.count)
        for i in stride(from: shape.count - 2, through: 0, by: -1) { strides[i] = strides[i + 1] * shape[i + 1] }
        for axis in 0..<shape.count where sigma[axis] > 0 && shape[axis] > 1 {
            let k = kernel(sigma: sigma[axis])
            let r = k.count / 2, len = shape[axis], inner = strides[axis], outer = n / (len * inner)
            k.withUnsafeBufferPointer { k in
                if inner == 1 {
                    // Along the fastest axis: one edge-padded line at a time.
                    var line = [Float](repeating: 0, count: len + 2 * r)
                    line.withUnsafeMutableBufferPointer { line in
                        for o in 0..<outer {
                            let row = base + o * len
                            for i in 0..<(len + 2 * r) { line[i] = row[Swift.min(len - 1, Swift.max(0, i - r))] }
                            // Tap by tap over the whole row (vectorises); each output still sums its taps in order.
                            row.update(repeating: 0, count: len)
                            for t in 0..<k.count {
                                let w = k[t], src = line.baseAddress! + t
                                for i in 0..<len { row[i] += w * src[i] }
                            }
                        }
                    }
                } else {
                    // Along a slower axis: whole contiguous rows at a time, edge rows replicated.
                    convolveRows(base, len: len, inner: inner, outer: outer, kernel: k, source: { Swift.min(len - 1, Swift.max(0, $0 - r)) })
                }
            }
        }
    }
}
