import Torch

/// BaBLoss's object boundary S_o (METHODS §5.3 steps 4–5): the 2-voxel shell between the
/// 3×3(×3) dilation and erosion of a binary region, thinned by a 2×2(×2) erosion anchored at
/// the far corner. Erosions count voxels outside the volume as foreground, so faces touching
/// the volume edge carry no boundary (as the official code does with zero-padded convolutions).
///
/// Maps are uint8 {0, 1}; every filter is a separable max over shifted views of a zero-padded
/// copy (padding 0 never wins a max of non-negative values, so the outside is ignored), several
/// times faster than a float max-pool on the CPU.
public enum BoundaryShell {
    /// `region` (N, C, spatial…) uint8 in {0, 1}, 2D or 3D: the thin boundary, uint8.
    public static func thin(_ region: Tensor) throws -> Tensor {
        let rank = region.rank - 2
        let dilated = try dilate(region, rank: rank)
        // Erosion = 1 − dilation of the complement, the outside ignored, i.e. counted as foreground.
        let eroded = 1 - (try dilate(1 - region, rank: rank))
        let shell = dilated - eroded
        // Output i is 1 iff the shell is 1 on all of {i−1, i}^rank (outside counts as 1).
        return 1 - (try maxFilter(1 - shell, rank: rank, before: 1, after: 0))
    }

    /// One step of chessboard dilation: the 3^rank max filter, outside ignored.
    public static func dilate(_ x: Tensor, rank: Int) throws -> Tensor {
        try maxFilter(x, rank: rank, before: 1, after: 1)
    }

    /// Max over the window [i − before, i + after] along every spatial axis of (N, C, spatial…)
    /// non-negative values, one axis at a time.
    static func maxFilter(_ x: Tensor, rank: Int, before: Int, after: Int) throws -> Tensor {
        var y = x
        for a in 0..<rank {
            let dim = 2 + a, n = y.shape[dim]
            var pad = [Int](repeating: 0, count: 2 * rank)
            pad[2 * (rank - 1 - a)] = before
            pad[2 * (rank - 1 - a) + 1] = after
            let p = try y.pad(pad)
            var m = try p.narrow(dim: dim, start: 0, length: n)
            for s in 1...(before + after) { m = try m.maximum(try p.narrow(dim: dim, start: s, length: n)) }
            y = m
        }
        return y
    }
}
