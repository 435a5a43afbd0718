import Torch

/// BaBLoss's distance map D = (n − d)/n with d = min(chessboard distance to the boundary, n)
/// (METHODS §5.3 step 6): 1 on the boundary, 1/n less per ring, 0 from n on. Computed, as in the
/// official code, by n chessboard dilations: counting how many of the dilations 0…n cover a
/// voxel gives n + 1 − d there (0 beyond n), so D = max(count − 1, 0)/n.
public enum ChessboardProximity {
    /// `boundary` (N, C, spatial…) uint8 in {0, 1}: D of the same shape in `dtype` (no gradient).
    public static func map(boundary: Tensor, maxDistance n: Int, dtype: DType = .float32) throws -> Tensor {
        guard n >= 1, n < 255 else { throw ObjectiveError("maxDistance must be in 1…254, got \(n)") }
        let rank = boundary.rank - 2
        var current = try boundary.to(.uint8)
        var count = current
        for _ in 0..<n {
            current = try BoundaryShell.dilate(current, rank: rank)
            count = try count.adding(current)
        }
        return try (count.to(dtype) - 1).clamp(min: 0) / Double(n)
    }
}
