/// Contour's estimate of a U-Net's training memory, in bytes:
/// `batch × bytesPerFeature × F + bytesPerParameter × P`, where F counts the elements of every
/// convolution output (and transposed-convolution and head output) of one sample, as nnU-Net's
/// `compute_conv_feature_map_size`, and P the parameters. nnU-Net instead compares F with a
/// reference (560 M elements in 3D, 85 M in 2D) calibrated to 8 GB at batch 2 / 12 (≈ 7 bytes per
/// element, fp16 mixed precision); Contour counts fp32 bytes: the convolution, normalisation and
/// activation outputs kept for backward (3 × 4 bytes), plus weights, gradients and two optimiser
/// moments (4 × 4 bytes per parameter).
public struct MemoryModel: Sendable, Codable, Equatable {
    public var bytesPerFeature = 12.0
    public var bytesPerParameter = 16.0

    public init() {}

    public struct Network: Sendable, Equatable {
        public var topology: NetworkTopology
        public var inChannels: Int
        public var classes: Int
        public var widths: [Int]
        public var convsPerStage: Int
    }

    /// Stage widths: base·2^s capped at `maxWidth`.
    public static func widths(stages: Int, base: Int, maxWidth: Int) -> [Int] {
        (0..<stages).map { Swift.min(base << $0, maxWidth) }
    }

    /// Convolution-output elements of one sample.
    public func featureElements(_ net: Network) -> Double {
        let t = net.topology
        var size = t.patchSize
        var voxels: [Double] = []
        for s in 0..<t.stages {
            size = zip(size, t.poolKernelSizes[s]).map { $0 / $1 }
            voxels.append(Double(size.reduce(1, *)))
        }
        var f = 0.0
        for s in 0..<t.stages { f += Double(net.convsPerStage * net.widths[s]) * voxels[s] }
        for s in 0..<(t.stages - 1) {
            f += Double(net.convsPerStage * net.widths[s]) * voxels[s]  // decoder convolutions
            f += Double(net.widths[s]) * voxels[s]                     // transposed convolution
        }
        return f + Double(net.classes) * voxels[0]
    }

    /// Weights and biases of the encoder, decoder and head.
    public func parameters(_ net: Network) -> Double {
        let t = net.topology, w = net.widths, c = net.convsPerStage
        var p = 0.0
        for s in 0..<t.stages {
            let k = Double(t.convKernelSizes[s].reduce(1, *))
            let cin = s == 0 ? net.inChannels : w[s - 1]
            p += k * Double(cin * w[s] + (c - 1) * w[s] * w[s]) + Double(3 * c * w[s])
            if s < t.stages - 1 {
                p += Double(t.poolKernelSizes[s + 1].reduce(1, *) * w[s + 1] * w[s] + w[s])
                p += k * Double(2 * w[s] * w[s] + (c - 1) * w[s] * w[s]) + Double(3 * c * w[s])
            }
        }
        return p + Double(w[0] * net.classes + net.classes)
    }

    public func bytes(_ net: Network, batch: Int) -> Double {
        Double(batch) * bytesPerFeature * featureElements(net) + bytesPerParameter * parameters(net)
    }
}
