import Torch

/// An objective with a direct form on a segmentation (B, K, spatial…) and landmark heatmaps
/// (B, P, spatial…) of paired samples, besides its training form (`contour loss NAME
/// --segmentation S.npy --heatmaps H.npy`).
public protocol PairedHeatmapObjective: Objective {
    func value(segmentation: Tensor, heatmaps: Tensor) throws -> Tensor
}
