/// nnU-Net's rule for a U-Net's pooling and kernels (`get_pool_and_conv_props`): pool the axes
/// whose current spacing is within a factor 2 of the finest and whose feature map is still
/// ≥ 2 × `minEdge`, until none is (a lone axis needs ≥ 3 × `minEdge`). An axis gets 3-wide kernels
/// from the first stage at which its spacing is within 2× the finest, 1 before (1×3×3 on anisotropic
/// data). The patch is rounded up to a multiple of 2^(pools per axis).
public struct NetworkTopology: Sendable, Codable, Equatable {
    public var poolsPerAxis: [Int]
    /// One per stage; the first is all ones (no pooling before stage 0).
    public var poolKernelSizes: [[Int]]
    /// One per stage; the bottleneck's is 3 on every axis.
    public var convKernelSizes: [[Int]]
    public var patchSize: [Int]

    public var stages: Int { poolKernelSizes.count }
    public var divisor: [Int] { poolsPerAxis.map { 1 << $0 } }

    public init(spacing: [Double], patchSize: [Double], minEdge: Int = 4) {
        let dim = spacing.count
        var current = spacing, size = patchSize
        var pools = [[Int](repeating: 1, count: dim)], convs: [[Int]] = []
        var perAxis = [Int](repeating: 0, count: dim), kernel = [Int](repeating: 1, count: dim)
        while true {
            var valid = (0..<dim).filter { size[$0] >= Double(2 * minEdge) }
            guard !valid.isEmpty else { break }
            let finest = valid.map { current[$0] }.min()!
            valid = valid.filter { current[$0] / finest < 2 }
            if valid.count == 1 && size[valid[0]] < Double(3 * minEdge) { break }
            guard !valid.isEmpty else { break }
            let overallFinest = current.min()!
            for d in 0..<dim where kernel[d] != 3 && current[d] / overallFinest < 2 { kernel[d] = 3 }
            var pool = [Int](repeating: 1, count: dim)
            for v in valid {
                pool[v] = 2
                perAxis[v] += 1
                current[v] *= 2
                size[v] = (size[v] / 2).rounded(.up)
            }
            pools.append(pool)
            convs.append(kernel)
        }
        convs.append([Int](repeating: 3, count: dim))
        poolsPerAxis = perAxis
        poolKernelSizes = pools
        convKernelSizes = convs
        // Round up to a multiple (a fractional median-shape size rounds up too, as nnU-Net's pad_shape).
        self.patchSize = zip(patchSize, perAxis).map { p, n in
            let m = Double(1 << n)
            return Int((p / m).rounded(.up) * m)
        }
    }
}
