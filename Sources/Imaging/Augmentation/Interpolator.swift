#if canImport(Glibc)
import Glibc
#endif
import Geometry

/// Samples a grid at fractional numpy-order coordinates (axis-major `coords`, rank × count).
/// Taps outside the grid read 0 (zero padding), as nnU-Net's constant border mode.
enum Interpolator {
    /// floor as Int without a libm call (x86-64's baseline has no SSE4.1 round) and without the
    /// trapping conversion's range checks: x + 1.5·2^23 rounds x to an integer in the low mantissa
    /// bits, exact for |x| < 2^22 (coordinates are clamped to ±1e6 where they are made).
    @inline(__always) static func floorInt(_ x: Float) -> Int {
        let i = Int(Int32(bitPattern: (x + 12_582_912).bitPattern &- 0x4B40_0000))
        return Float(i) > x ? i &- 1 : i
    }

    static func sample(_ g: Grid<Float>, at coords: [Float], count n: Int, method: Interpolation) -> [Float] {
        switch method {
        case .nearest: return nearest(g, at: coords, count: n)
        case .linear: return linear(g, at: coords, count: n)
        case .cubic: return cubic(g, at: coords, count: n)
        }
    }

    static func nearest<T: Numeric & Sendable>(_ g: Grid<T>, at coords: [Float], count n: Int) -> [T] {
        let rank = g.rank
        let d = rank == 3 ? g.shape[0] : 1, h = g.shape[rank - 2], w = g.shape[rank - 1]
        // Every element is written (0 outside), so the output is not zero-filled first.
        return [T](unsafeUninitializedCapacity: n) { dst, initialised in
            g.storage.withUnsafeBufferPointer { src in
                coords.withUnsafeBufferPointer { c in
                    let ys = c.baseAddress! + (rank == 3 ? n : 0), xs = c.baseAddress! + (rank == 3 ? 2 * n : n)
                    if rank == 2 {
                        for i in 0..<n {
                            let y = floorInt(ys[i] + 0.5), x = floorInt(xs[i] + 0.5)
                            dst[i] = y >= 0 && y < h && x >= 0 && x < w ? src[y &* w &+ x] : 0
                        }
                    } else {
                        let zs = c.baseAddress!
                        for i in 0..<n {
                            let z = floorInt(zs[i] + 0.5), y = floorInt(ys[i] + 0.5), x = floorInt(xs[i] + 0.5)
                            dst[i] = z >= 0 && z < d && y >= 0 && y < h && x >= 0 && x < w ? src[(z &* h &+ y) &* w &+ x] : 0
                        }
                    }
                }
            }
            initialised = n
        }
    }

    static func linear(_ g: Grid<Float>, at coords: [Float], count n: Int) -> [Float] {
        [Float](unsafeUninitializedCapacity: n) { dst, initialised in
            g.storage.withUnsafeBufferPointer { src in
                coords.withUnsafeBufferPointer { c in
                    if g.rank == 2 {
                        let h = g.shape[0], w = g.shape[1]
                        for i in 0..<n {
                            let py = c[i], px = c[n &+ i]
                            let y0 = floorInt(py), x0 = floorInt(px)
                            dst[i] = bilinear(src, h: h, w: w, y0: y0, x0: x0, ty: py - Float(y0), tx: px - Float(x0),
                                              rowInside: y0 >= 0 && y0 &+ 1 < h)
                        }
                    } else {
                        let d = g.shape[0], h = g.shape[1], w = g.shape[2]
                        @inline(__always) func at(_ z: Int, _ y: Int, _ x: Int) -> Float {
                            (z >= 0 && z < d && y >= 0 && y < h && x >= 0 && x < w) ? src[(z &* h &+ y) &* w &+ x] : 0
                        }
                        for i in 0..<n {
                            let pz = c[i], py = c[n &+ i], px = c[2 &* n &+ i]
                            let z0 = floorInt(pz), y0 = floorInt(py), x0 = floorInt(px)
                            guard z0 >= -1 && z0 < d && y0 >= -1 && y0 < h && x0 >= -1 && x0 < w else { dst[i] = 0; continue }
                            let tz = pz - Float(z0), ty = py - Float(y0), tx = px - Float(x0)
                            if z0 >= 0 && z0 &+ 1 < d && y0 >= 0 && y0 &+ 1 < h && x0 >= 0 && x0 &+ 1 < w {
                                // All 8 taps inside: the same formula without a bounds check per tap.
                                let p = (z0 &* h &+ y0) &* w &+ x0, plane = h &* w
                                @inline(__always) func inner(_ q: Int) -> Float {
                                    let top = src[q] * (1 - tx) + src[q &+ 1] * tx
                                    let bottom = src[q &+ w] * (1 - tx) + src[q &+ w &+ 1] * tx
                                    return top * (1 - ty) + bottom * ty
                                }
                                dst[i] = inner(p) * (1 - tz) + inner(p &+ plane) * tz
                                continue
                            }
                            @inline(__always) func plane(_ z: Int) -> Float {
                                let top = at(z, y0, x0) * (1 - tx) + at(z, y0, x0 &+ 1) * tx
                                let bottom = at(z, y0 &+ 1, x0) * (1 - tx) + at(z, y0 &+ 1, x0 &+ 1) * tx
                                return top * (1 - ty) + bottom * ty
                            }
                            dst[i] = plane(z0) * (1 - tz) + plane(z0 &+ 1) * tz
                        }
                    }
                }
            }
            initialised = n
        }
    }

    /// `nearest` at the outer product of per-axis coordinates (`axes[a]`: the coordinates along
    /// axis a; output shape = their counts): the same values without a coordinate per voxel.
    static func nearest(_ g: Grid<Float>, axes: [[Float]]) -> [Float] {
        let e = g.rank == 3 ? g.shape : [1] + g.shape, a3 = g.rank == 3 ? axes : [[0]] + axes
        // Per axis: the source index, or −1 outside.
        let index = (0..<3).map { a in a3[a].map { p -> Int in let i = floorInt(p + 0.5); return i >= 0 && i < e[a] ? i : -1 } }
        let n = a3.reduce(1) { $0 * $1.count }
        return [Float](unsafeUninitializedCapacity: n) { dst, initialised in
            g.storage.withUnsafeBufferPointer { src in
                index[2].withUnsafeBufferPointer { xs in
                    var o = 0
                    for z in index[0] {
                        for y in index[1] {
                            if z < 0 || y < 0 {
                                (dst.baseAddress! + o).initialize(repeating: 0, count: xs.count)
                            } else {
                                let row = src.baseAddress! + (z * e[1] + y) * e[2]
                                for k in 0..<xs.count { dst[o + k] = xs[k] < 0 ? 0 : row[xs[k]] }
                            }
                            o += xs.count
                        }
                    }
                }
            }
            initialised = n
        }
    }

    /// `linear` at the outer product of per-axis coordinates, with the same arithmetic per voxel
    /// (so the same values), the floors and fractions computed once per axis.
    static func linear(_ g: Grid<Float>, axes: [[Float]]) -> [Float] {
        let rank = g.rank
        let e = rank == 3 ? g.shape : [1] + g.shape, a3 = rank == 3 ? axes : [[0]] + axes
        let floors = a3.map { $0.map { floorInt($0) } }
        let fractions = (0..<3).map { a in zip(a3[a], floors[a]).map { $0 - Float($1) } }
        let n = a3.reduce(1) { $0 * $1.count }
        let (d, h, w) = (e[0], e[1], e[2])
        return [Float](unsafeUninitializedCapacity: n) { dst, initialised in
            g.storage.withUnsafeBufferPointer { src in
                floors[2].withUnsafeBufferPointer { x0s in
                    fractions[2].withUnsafeBufferPointer { txs in
                        let m = x0s.count
                        var o = 0
                        for (z0, tz) in zip(floors[0], fractions[0]) {
                            for (y0, ty) in zip(floors[1], fractions[1]) {
                                if rank == 2 {
                                    linearRow2D(src, h: h, w: w, y0: y0, ty: ty, x0s: x0s, txs: txs, into: dst.baseAddress! + o)
                                } else {
                                    @inline(__always) func at(_ z: Int, _ y: Int, _ x: Int) -> Float {
                                        (z >= 0 && z < d && y >= 0 && y < h && x >= 0 && x < w) ? src[(z &* h &+ y) &* w &+ x] : 0
                                    }
                                    for k in 0..<m {
                                        let x0 = x0s[k], tx = txs[k]
                                        guard z0 >= -1 && z0 < d && y0 >= -1 && y0 < h && x0 >= -1 && x0 < w else { dst[o + k] = 0; continue }
                                        @inline(__always) func plane(_ z: Int) -> Float {
                                            let top = at(z, y0, x0) * (1 - tx) + at(z, y0, x0 &+ 1) * tx
                                            let bottom = at(z, y0 &+ 1, x0) * (1 - tx) + at(z, y0 &+ 1, x0 &+ 1) * tx
                                            return top * (1 - ty) + bottom * ty
                                        }
                                        dst[o + k] = plane(z0) * (1 - tz) + plane(z0 &+ 1) * tz
                                    }
                                }
                                o += m
                            }
                        }
                    }
                }
            }
            initialised = n
        }
    }

    /// One output row of 2D `linear`: source row y0 (fraction ty), columns x0s (fractions txs).
    @inline(__always) private static func linearRow2D(_ src: UnsafeBufferPointer<Float>, h: Int, w: Int, y0: Int, ty: Float,
                                                      x0s: UnsafeBufferPointer<Int>, txs: UnsafeBufferPointer<Float>,
                                                      into dst: UnsafeMutablePointer<Float>) {
        let rowInside = y0 >= 0 && y0 + 1 < h
        for k in 0..<x0s.count {
            dst[k] = bilinear(src, h: h, w: w, y0: y0, x0: x0s[k], ty: ty, tx: txs[k], rowInside: rowInside)
        }
    }

    /// One bilinear sample of a 2D grid at (y0 + ty, x0 + tx), zeros outside; `rowInside` says
    /// rows y0 and y0 + 1 both exist (the interior path then needs only the column test).
    @inline(__always) private static func bilinear(_ src: UnsafeBufferPointer<Float>, h: Int, w: Int, y0: Int, x0: Int,
                                                   ty: Float, tx: Float, rowInside: Bool) -> Float {
        if rowInside && x0 >= 0 && x0 &+ 1 < w {
            let p = y0 &* w &+ x0
            let top = src[p] + (src[p &+ 1] - src[p]) * tx
            let bottom = src[p &+ w] + (src[p &+ w &+ 1] - src[p &+ w]) * tx
            return top + (bottom - top) * ty
        }
        guard y0 >= -1 && y0 < h && x0 >= -1 && x0 < w else { return 0 }
        @inline(__always) func at(_ y: Int, _ x: Int) -> Float {
            (y >= 0 && y < h && x >= 0 && x < w) ? src[y &* w &+ x] : 0
        }
        let top = at(y0, x0) * (1 - tx) + at(y0, x0 &+ 1) * tx
        let bottom = at(y0 &+ 1, x0) * (1 - tx) + at(y0 &+ 1, x0 &+ 1) * tx
        return top * (1 - ty) + bottom * ty
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
