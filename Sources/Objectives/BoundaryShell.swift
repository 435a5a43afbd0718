import Torch

/// BaBLoss's object boundary S_o (METHODS §5.3 steps 4–5): the 2-voxel shell between the
/// 3×3(×3) dilation and erosion of a binary region, thinned by a 2×2(×2) erosion anchored at
/// the far corner. Erosions count voxels outside the volume as foreground, so faces touching
/// the volume edge carry no boundary (as the official code does with zero-padded convolutions).
public enum BoundaryShell {
    /// `region` (N, C, spatial…) in {0, 1}, floating point, 2D or 3D: the thin boundary, same shape and dtype.
    public static func thin(_ region: Tensor) throws -> Tensor {
        let rank = region.rank - 2
        let dilated = try dilate(region, rank: rank)
        // Erosion = 1 − dilation of the complement; max-pool ignores the outside, i.e. it counts as foreground.
        let eroded = 1 - (try dilate(1 - region, rank: rank))
        let shell = dilated - eroded
        // Output i is 1 iff the shell is 1 on all of {i−1, i}^rank (outside counts as 1): pad the
        // complement with 0 in front and take the 2-wide max.
        let hole = try (1 - shell).pad([[Int]](repeating: [1, 0], count: rank).flatMap { $0 })
        let k = [Int](repeating: 2, count: rank)
        return 1 - (try hole.maxPool(kernel: k, stride: [Int](repeating: 1, count: rank)))
    }

    /// One step of chessboard dilation (the 3^rank max filter, outside ignored), as one 3-wide
    /// max pool per axis: separable, 3·rank comparisons per voxel instead of 3^rank.
    public static func dilate(_ x: Tensor, rank: Int) throws -> Tensor {
        var y = x
        for a in 0..<rank {
            var k = [Int](repeating: 1, count: rank), p = [Int](repeating: 0, count: rank)
            k[a] = 3
            p[a] = 1
            y = try y.maxPool(kernel: k, stride: [Int](repeating: 1, count: rank), padding: p)
        }
        return y
    }
}
