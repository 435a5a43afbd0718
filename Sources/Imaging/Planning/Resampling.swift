import Geometry

/// Resizing to a target shape as nnU-Net v2 preprocesses: B-spline interpolation of order 0, 1 or 3
/// with skimage's `resize(mode="edge", anti_aliasing=False)` mapping (output voxel centre o samples
/// input coordinate (o + ½)·n_in/n_out − ½; outside the image, the edge value), clipped to the
/// input's range for order > 0. Tensor-product splines at a grid of points are separable, so a
/// resize is one pass per axis, each a short weighted sum over precomputed taps that runs over
/// whole contiguous rows (no per-voxel closures).
public enum Resampling {
    /// Whether nnU-Net's separate-z rule applies and along which axis: when the current (or else
    /// the target) spacing has max/min > `threshold`, the single coarsest axis is resampled with
    /// order 0 and the others in-plane; two tied coarsest axes (or a 2D image) mean no separate axis.
    public static func separateAxis(current: [Double], target: [Double], threshold: Double = 3) -> Int? {
        guard current.count == 3 else { return nil }
        func lowres(_ s: [Double]) -> Int? {
            guard let hi = s.max(), let lo = s.min(), hi / lo > threshold else { return nil }
            let axes = s.indices.filter { s[$0] == hi }
            return axes.count == 1 ? axes[0] : nil
        }
        if let hi = current.max(), let lo = current.min(), hi / lo > threshold { return lowres(current) }
        return lowres(target)
    }

    /// The shape after resampling `shape` from `spacing` to `target` (numpy's round half to even,
    /// as nnU-Net's `compute_new_shape`).
    public static func newShape(_ shape: [Int], spacing: [Double], target: [Double]) -> [Int] {
        zip(zip(shape, spacing), target).map { Int((Double($0.0) * $0.1 / $1).rounded(.toNearestOrEven)) }
    }

    /// Resizes one channel. With `separateAxis`, the other axes use `order` slice by slice (each slice
    /// clipped to its own range, as nnU-Net's per-slice resize) and that axis uses order 0.
    public static func resize(_ data: [Float], shape: [Int], to newShape: [Int], order: Int, separateAxis: Int? = nil) -> [Float] {
        precondition(shape.count == newShape.count && data.count == shape.reduce(1, *))
        if shape == newShape { return data }
        guard let z = separateAxis else {
            var out = data, current = shape
            for axis in shape.indices where current[axis] != newShape[axis] {
                out = pass(out, shape: current, axis: axis, to: newShape[axis], order: order)
                current[axis] = newShape[axis]
            }
            if order > 0, let lo = data.min(), let hi = data.max() { clip(&out, lo, hi) }
            return out
        }
        // In-plane passes; the separate axis's slices stay apart, so clip each to its own range.
        let inner = shape[(z + 1)...].reduce(1, *), sliceCount = shape[z], outer = shape[..<z].reduce(1, *)
        var ranges = [(Float, Float)](repeating: (.infinity, -.infinity), count: sliceCount)
        for o in 0..<outer {
            for s in 0..<sliceCount {
                let base = (o * sliceCount + s) * inner
                for i in base..<(base + inner) { ranges[s] = (Swift.min(ranges[s].0, data[i]), Swift.max(ranges[s].1, data[i])) }
            }
        }
        var out = data, current = shape
        for axis in shape.indices where axis != z && current[axis] != newShape[axis] {
            out = pass(out, shape: current, axis: axis, to: newShape[axis], order: order)
            current[axis] = newShape[axis]
        }
        if order > 0 {
            let newInner = current[(z + 1)...].reduce(1, *)
            for o in 0..<outer {
                for s in 0..<sliceCount {
                    let base = (o * sliceCount + s) * newInner
                    for i in base..<(base + newInner) { out[i] = Swift.min(Swift.max(out[i], ranges[s].0), ranges[s].1) }
                }
            }
        }
        if current[z] != newShape[z] { out = pass(out, shape: current, axis: z, to: newShape[z], order: 0) }
        return out
    }

    public enum LabelMode: String, Sendable, Codable, CaseIterable {
        /// Each class's one-hot map resized linearly, then the argmax (lowest label on ties).
        case linear
        /// Nearest neighbour (order 0).
        case nearest
    }

    /// Resizes a label map. `linear` resizes each class present (and background) with order 1,
    /// then takes the argmax; with `separateAxis`, that axis uses nearest, as nnU-Net's `order_z = 0`.
    public static func resizeLabels(_ labels: [UInt8], shape: [Int], to newShape: [Int], mode: LabelMode,
                                    separateAxis: Int? = nil) -> [UInt8] {
        if shape == newShape { return labels }
        if mode == .nearest {
            return resize(labels.map(Float.init), shape: shape, to: newShape, order: 0).map { UInt8($0) }
        }
        var present = [Bool](repeating: false, count: 256)
        for v in labels { present[Int(v)] = true }
        let classes = (0..<256).filter { present[$0] }
        var inPlane = newShape
        if let z = separateAxis { inPlane[z] = shape[z] }
        let n = inPlane.reduce(1, *)
        var best = [Float](repeating: -.infinity, count: n)
        var out = [UInt8](repeating: 0, count: n)
        for c in classes {
            let onehot = labels.map { $0 == UInt8(c) ? Float(1) : 0 }
            let r = resize(onehot, shape: shape, to: inPlane, order: 1)
            for i in 0..<n where r[i] > best[i] { best[i] = r[i]; out[i] = UInt8(c) }
        }
        guard let z = separateAxis, inPlane[z] != newShape[z] else { return out }
        return pass(out.map(Float.init), shape: inPlane, axis: z, to: newShape[z], order: 0).map { UInt8($0) }
    }

    static func clip(_ x: inout [Float], _ lo: Float, _ hi: Float) {
        for i in x.indices { x[i] = Swift.min(Swift.max(x[i], lo), hi) }
    }

    // MARK: One axis

    /// Taps of one output position: input indices (already clamped) and weights.
    struct Taps {
        var index: [Int]
        var weight: [Double]
        let width: Int
    }

    /// Taps for resizing n → m with spline `order` over an input of `length` samples (the prefiltered,
    /// edge-padded line for order 3: `offset` = its padding).
    static func taps(from n: Int, to m: Int, order: Int, length: Int, offset: Int) -> Taps {
        let width = order + 1
        var t = Taps(index: [Int](repeating: 0, count: m * width), weight: [Double](repeating: 0, count: m * width), width: width)
        let scale = Double(n) / Double(m)
        for o in 0..<m {
            let x = (Double(o) + 0.5) * scale - 0.5 + Double(offset)
            var w = [Double](repeating: 0, count: width)
            let start: Int
            switch order {
            case 0:
                start = Int((x + 0.5).rounded(.down)); w[0] = 1
            case 1:
                start = Int(x.rounded(.down))
                let f = x - Double(start); w[0] = 1 - f; w[1] = f
            default:
                let fl = Int(x.rounded(.down)); start = fl - 1
                let f = x - Double(fl), f2 = f * f, f3 = f2 * f
                w[0] = (1 - f) * (1 - f) * (1 - f) / 6
                w[1] = (4 - 6 * f2 + 3 * f3) / 6
                w[2] = (1 + 3 * f + 3 * f2 - 3 * f3) / 6
                w[3] = f3 / 6
            }
            for k in 0..<width {
                t.index[o * width + k] = Swift.min(Swift.max(start + k, 0), length - 1)
                t.weight[o * width + k] = w[k]
            }
        }
        return t
    }

    /// Resizes `axis` of a C-ordered array to `m` samples.
    static func pass(_ data: [Float], shape: [Int], axis: Int, to m: Int, order: Int) -> [Float] {
        precondition(order == 0 || order == 1 || order == 3, "spline order \(order)")
        let n = shape[axis], inner = shape[(axis + 1)...].reduce(1, *), outer = shape[..<axis].reduce(1, *)
        // Order 3: scipy pads 12 edge samples each side, then prefilters with mirror boundaries.
        let pad = order == 3 ? 12 : 0
        let length = n + 2 * pad
        let taps = taps(from: n, to: m, order: order, length: length, offset: pad)
        var out = [Float](repeating: 0, count: outer * m * inner)
        data.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                let dstBase = SendablePointer(dst.baseAddress!), srcBase = SendableConstPointer(src.baseAddress!)
                Parallel.forRanges(outer, grain: Swift.max(1, 65536 / Swift.max(1, n * inner))) { range in
                    var line = [Double](repeating: 0, count: length * inner)
                    var acc = [Double](repeating: 0, count: inner)
                    for o in range {
                        let s = srcBase.base + o * n * inner
                        // line[k][i], k over the (padded) axis, i over the contiguous inner run.
                        for k in 0..<length {
                            let j = Swift.min(Swift.max(k - pad, 0), n - 1)
                            for i in 0..<inner { line[k * inner + i] = Double(s[j * inner + i]) }
                        }
                        if order == 3 { prefilter(&line, length: length, inner: inner) }
                        let d = dstBase.base + o * m * inner
                        for q in 0..<m {
                            for i in 0..<inner { acc[i] = 0 }
                            for k in 0..<taps.width {
                                let w = taps.weight[q * taps.width + k]
                                if w == 0 { continue }
                                let row = taps.index[q * taps.width + k] * inner
                                for i in 0..<inner { acc[i] += w * line[row + i] }
                            }
                            for i in 0..<inner { d[q * inner + i] = Float(acc[i]) }
                        }
                    }
                }
            }
        }
        return out
    }

    /// Cubic B-spline coefficients along the first axis of `line` ([length, inner]), mirror
    /// boundaries (the causal/anticausal recursions with pole √3 − 2, as scipy's spline_filter1d).
    static func prefilter(_ c: inout [Double], length n: Int, inner: Int) {
        guard n > 1 else { return }
        let z = 3.0.squareRoot() - 2, gain = (1 - z) * (1 - 1 / z)
        for i in 0..<(n * inner) { c[i] *= gain }
        // Causal initial value: c[0] = Σ mirror-extended terms / (1 − z^(2n−2)).
        let zn1 = pow(z, n - 1)
        for i in 0..<inner {
            var sum = c[i] + zn1 * c[(n - 1) * inner + i]
            var zk = z
            for k in 1..<(n - 1) {
                sum += zk * (c[k * inner + i] + zn1 * c[(n - 1 - k) * inner + i])
                zk *= z
            }
            c[i] = sum / (1 - zn1 * zn1)
        }
        for k in 1..<n {
            for i in 0..<inner { c[k * inner + i] += z * c[(k - 1) * inner + i] }
        }
        for i in 0..<inner {
            let last = (n - 1) * inner + i
            c[last] = (z / (z * z - 1)) * (z * c[last - inner] + c[last])
        }
        for k in stride(from: n - 2, through: 0, by: -1) {
            for i in 0..<inner { c[k * inner + i] = z * (c[(k + 1) * inner + i] - c[k * inner + i]) }
        }
    }

    private static func pow(_ x: Double, _ n: Int) -> Double {
        var r = 1.0
        for _ in 0..<n { r *= x }
        return r
    }
}

/// Raw pointers that concurrent chunks of one pass read from / write to at disjoint places.
struct SendablePointer<T>: @unchecked Sendable { let base: UnsafeMutablePointer<T>; init(_ b: UnsafeMutablePointer<T>) { base = b } }
struct SendableConstPointer<T>: @unchecked Sendable { let base: UnsafePointer<T>; init(_ b: UnsafePointer<T>) { base = b } }
