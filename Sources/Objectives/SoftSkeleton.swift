import Torch

/// The differentiable soft skeleton of clDice (Shit et al., CVPR 2021; METHODS §6), from
/// iterated min/max pooling of probabilities (N, C, spatial…), 2D or 3D.
public enum SoftSkeleton {
    /// Soft erosion: the minimum of axis-wise 3-long min-pools.
    public static func erode(_ x: Tensor) throws -> Tensor {
        let s = x.rank - 2
        var out: Tensor?
        for axis in 0..<s {
            var kernel = Array(repeating: 1, count: s), pad = Array(repeating: 0, count: s)
            kernel[axis] = 3
            pad[axis] = 1
            let m = -(try (-x).maxPool(kernel: kernel, stride: Array(repeating: 1, count: s), padding: pad))
            out = try out.map { try $0.minimum(m) } ?? m
        }
        return out!
    }

    /// Soft dilation: a 3×3(×3) max-pool.
    public static func dilate(_ x: Tensor) throws -> Tensor {
        try x.maxPool(kernel: [3], stride: [1], padding: [1])
    }

    public static func open(_ x: Tensor) throws -> Tensor { try dilate(erode(x)) }

    /// skel = relu(x − open(x)), then `iterations` times: x ← erode(x),
    /// δ = relu(x − open(x)), skel ← skel + relu(δ − skel·δ).
    public static func skeleton(_ x: Tensor, iterations: Int) throws -> Tensor {
        guard (2...3).contains(x.rank - 2) else {
            throw ObjectiveError("the soft skeleton needs (N, C, H, W) or (N, C, D, H, W), got shape \(x.shape)")
        }
        var img = x
        var skel = try (img - open(img)).relu()
        for _ in 0..<iterations {
            img = try erode(img)
            let delta = try (img - open(img)).relu()
            skel = try skel + (delta - skel * delta).relu()
        }
        return skel
    }
}
