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

    /// Smooths `data` of `shape` along each axis whose sigma is > 0.
    static func smooth(_ data: UnsafeMutableBufferPointer<Float>, shape: [Int], sigma: [Double]) {
        let n = shape.reduce(1, *)
        guard n > 0 else { return }
        var line = [Float](repeating: 0, count: shape.max()!)
        var strides = Array(repeating: 1, count: shape.count)
        for i in stride(from: shape.count - 2, through: 0, by: -1) { strides[i] = strides[i + 1] * shape[i + 1] }
        line.withUnsafeMutableBufferPointer { line in
            for axis in 0..<shape.count where sigma[axis] > 0 && shape[axis] > 1 {
                let k = kernel(sigma: sigma[axis])
                let r = k.count / 2, len = shape[axis], st = strides[axis]
                k.withUnsafeBufferPointer { k in
                    // Every line along `axis` starts at an offset whose `axis` index is 0.
                    for start in 0..<n where (start / st) % len == 0 {
                        for i in 0..<len { line[i] = data[start + i * st] }
                        for i in 0..<len {
                            var acc: Float = 0
                            if i >= r && i + r < len {
                                for t in 0..<k.count { acc += k[t] * line[i - r + t] }
                            } else {
                                for t in 0..<k.count {
                                    let j = Swift.min(len - 1, Swift.max(0, i - r + t))
                                    acc += k[t] * line[j]
                                }
                            }
                            data[start + i * st] = acc
                        }
                    }
                }
            }
        }
    }
}
