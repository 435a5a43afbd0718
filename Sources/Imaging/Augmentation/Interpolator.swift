#if canImport(Glibc)
import Glibc
#endif
import Geometry

/// Samples a grid at fractional numpy-order coordinates (axis-major `coords`, rank × count).
/// Taps outside the grid read 0 (zero padding), as nnU-Net's constant border mode.
enum Interpolator {
    /// floor as Int without a libm call (x86-64's baseline has no SSE4.1 round); coordinates
    /// are clamped to ±1e6 where they are made, so the conversion cannot trap.
    @inline(__always) static func floorInt(_ x: Float) -> Int {
        let i = Int(x)
        return Float(i) > x ? i - 1 : i
    }

    static func sample(_ g: Grid<Float>, at coords: [Float], count n: Int, method: Interpolation) -> [Float] {
        switch method {
        case .nearest: return nearest(g, at: coords, count: n)
        case .linear: return linear(g, at: coords, count: n)
        case .cubic: return cubic(g, at: coords, count: n)
        }
    }

    static func nearest<T: Numeric & Sendable>(_ g: Grid<T>, at coords: [Float], count n: Int) -> [T] {
        var out = [T](repeating: 0, count: n)
        let rank = g.rank
        let d = rank == 3 ? g.shape[0] : 1, h = g.shape[rank - 2], w = g.shape[rank - 1]
        g.storage.withUnsafeBufferPointer { src in
            coords.withUnsafeBufferPointer { c in
                out.withUnsafeMutableBufferPointer { dst in
                    let zs = rank == 3 ? c.baseAddress! : nil
                    let ys = c.baseAddress! + (rank == 3 ? n : 0), xs = c.baseAddress! + (rank == 3 ? 2 * n : n)
                    for i in 0..<n {
                        let z = zs.map { floorInt($0[i] + 0.5) } ?? 0
                        let y = floorInt(ys[i] + 0.5), x = floorInt(xs[i] + 0.5)
                        if z >= 0 && z < d && y >= 0 && y < h && x >= 0 && x < w { dst[i] = src[(z * h + y) * w + x] }
                    }
                }
            }
        }
        return out
    }

    static func linear(_ g: Grid<Float>, at coords: [Float], count n: Int) -> [Float] {
        var out = [Float](repeating: 0, count: n)
        g.storage.withUnsafeBufferPointer { src in
            coords.withUnsafeBufferPointer { c in
                out.withUnsafeMutableBufferPointer { dst in
                    if g.rank == 2 {
                        let h = g.shape[0], w = g.shape[1]
                        @inline(__always) func at(_ y: Int, _ x: Int) -> Float {
                            (y >= 0 && y < h && x >= 0 && x < w) ? src[y * w + x] : 0
                        }
                        for i in 0..<n {
                            let py = c[i], px = c[n + i]
                            let y0 = floorInt(py), x0 = floorInt(px), ty = py - Float(y0), tx = px - Float(x0)
                            if y0 >= 0 && y0 + 1 < h && x0 >= 0 && x0 + 1 < w {
                                let p = y0 * w + x0
                                let top = src[p] + (src[p + 1] - src[p]) * tx
                                let bottom = src[p + w] + (src[p + w + 1] - src[p + w]) * tx
                                dst[i] = top + (bottom - top) * ty
                            } else if y0 >= -1 && y0 < h && x0 >= -1 && x0 < w {
                                let top = at(y0, x0) * (1 - tx) + at(y0, x0 + 1) * tx
                                let bottom = at(y0 + 1, x0) * (1 - tx) + at(y0 + 1, x0 + 1) * tx
                                dst[i] = top * (1 - ty) + bottom * ty
                            }
                        }
                    } else {
                        let d = g.shape[0], h = g.shape[1], w = g.shape[2]
                        @inline(__always) func at(_ z: Int, _ y: Int, _ x: Int) -> Float {
                            (z >= 0 && z < d && y >= 0 && y < h && x >= 0 && x < w) ? src[(z * h + y) * w + x] : 0
                        }
                        for i in 0..<n {
                            let pz = c[i], py = c[n + i], px = c[2 * n + i]
                            let z0 = floorInt(pz), y0 = floorInt(py), x0 = floorInt(px)
                            guard z0 >= -1 && z0 < d && y0 >= -1 && y0 < h && x0 >= -1 && x0 < w else { continue }
                            let tz = pz - Float(z0), ty = py - Float(y0), tx = px - Float(x0)
                            func plane(_ z: Int) -> Float {
                                let top = at(z, y0, x0) * (1 - tx) + at(z, y0, x0 + 1) * tx
                                let bottom = at(z, y0 + 1, x0) * (1 - tx) + at(z, y0 + 1, x0 + 1) * tx
                                return top * (1 - ty) + bottom * ty
                            }
                            dst[i] = plane(z0) * (1 - tz) + plane(z0 + 1) * tz
                        }
                    }
                }
            }
        }
        return out
    }

    /// Keys' cubic convolution (a = −0.5, Catmull–Rom), 4 taps per axis.
    @inline(__always) static func cubicWeights(_ t: Float) -> (Float, Float, Float, Float) {
        let t2 = t * t, t3 = t2 * t
        return (-0.5 * t3 + t2 - 0.5 * t, 1.5 * t3 - 2.5 * t2 + 1, -1.5 * t3 + 2 * t2 + 0.5 * t, 0.5 * t3 - 0.5 * t2)
    }

    static func cubic(_ g: Grid<Float>, at coords: [Float], count n: Int) -> [Float] {
        var out = [Float](repeating: 0, count: n)
        let rank = g.rank, shape = g.shape, strides = g.strides
        g.storage.withUnsafeBufferPointer { src in
            coords.withUnsafeBufferPointer { c in
                out.withUnsafeMutableBufferPointer { dst in
                    var base = [Int](repeating: 0, count: 3)
                    var w = [Float](repeating: 0, count: 12)
                    for i in 0..<n {
                        var outside = false
                        for a in 0..<rank {
                            let p = c[a * n + i]
                            if p < -1 || p > Float(shape[a]) { outside = true; break }
                            let f = floorInt(p)
                            base[a] = f - 1
                            let (w0, w1, w2, w3) = cubicWeights(p - Float(f))
                            w[a * 4] = w0; w[a * 4 + 1] = w1; w[a * 4 + 2] = w2; w[a * 4 + 3] = w3
                        }
                        if outside { continue }
                        var acc: Float = 0
                        if rank == 2 {
                            for j in 0..<4 {
                                let y = base[0] + j
                                guard y >= 0 && y < shape[0] else { continue }
                                var row: Float = 0
                                for k in 0..<4 {
                                    let x = base[1] + k
                                    if x >= 0 && x < shape[1] { row += w[4 + k] * src[y * strides[0] + x] }
                                }
                                acc += w[j] * row
                            }
                        } else {
                            for l in 0..<4 {
                                let z = base[0] + l
                                guard z >= 0 && z < shape[0] else { continue }
                                for j in 0..<4 {
                                    let y = base[1] + j
                                    guard y >= 0 && y < shape[1] else { continue }
                                    var row: Float = 0
                                    for k in 0..<4 {
                                        let x = base[2] + k
                                        if x >= 0 && x < shape[2] { row += w[8 + k] * src[z * strides[0] + y * strides[1] + x] }
                                    }
                                    acc += w[l] * w[4 + j] * row
                                }
                            }
                        }
                        dst[i] = acc
                    }
                }
            }
        }
        return out
    }
}
