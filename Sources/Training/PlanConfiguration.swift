import Foundation
import Imaging

/// Turns one configuration of a plans file (`contour data plan`) into configuration overrides:
/// the dataset, patch and batch size, the U-Net with the plan's stages, pooling and kernels, and
/// the normalisation. They are applied before the user's `--set` overrides, so any field can
/// still be changed.
public enum PlanConfiguration {
    /// `preprocessed`: the `contour data preprocess` folder of this plan and configuration to train
    /// from (checked: an error names a folder written for another plan or configuration).
    public static func overrides(plansPath: String, configuration name: String,
                                 preprocessed: String? = nil) throws -> (overrides: [String], warnings: [String]) {
        let plans = try ExperimentPlans.read(path: plansPath)
        let c = try plans.configuration(name, path: plansPath)
        let rank = plans.fingerprint.rank
        guard c.axes.count == rank else {
            throw TrainingError("\(plansPath): configuration \(name) sees \(c.axes.count) of the images' \(rank) axes; Contour trains "
                                + "\(c.axes.count)D models on \(c.axes.count)D images, so use "
                                + plans.configurations.filter { $0.value.axes.count == rank }.keys.sorted().joined(separator: " or "))
        }
        func list(_ v: [Int]) -> String { "[" + v.map(String.init).joined(separator: ", ") + "]" }
        func lists(_ v: [[Int]]) -> String { "[" + v.map(list).joined(separator: ", ") + "]" }
        var warnings: [String] = []
        let schemes = Set(plans.normalization.map(\.scheme))
        let normalization: String
        if plans.normalization.count == 1, let n = plans.normalization.first, n.scheme == .ct, let clip = n.clip, let m = n.mean, let sd = n.sd {
            normalization = "ct:\(clip[0]),\(clip[1]),\(m),\(sd)"
        } else if schemes == [.rgb] {
            normalization = "rgb"
        } else if schemes == [.none] {
            normalization = "none"
        } else {
            normalization = "zscore"
            if schemes != [.zscore] {
                warnings.append("\(plansPath): channels normalise differently (\(plans.normalization.map { "\($0.channel): \($0.scheme.rawValue)" }.joined(separator: ", "))); "
                                + "data.normalization applies one rule to every channel, so training uses zscore")
            }
        }
        let o = [
            "data.dataset=\(plans.dataset)",
            "data.patchSize=\(list(c.patchSize))",
            "data.batchSize=\(c.batchSize)",
            "data.normalization=\"\(normalization)\"",
            "model.name=\(rank == 3 ? "unet3d" : "unet2d")",
            "model.options.baseWidth=\(c.baseWidth)",
            "model.options.maxWidth=\(c.maxWidth)",
            "model.options.convsPerStage=\(c.convsPerStage)",
            "model.options.poolKernelSizes=\(lists(c.poolKernelSizes))",
            "model.options.convKernelSizes=\(lists(c.convKernelSizes))",
        ]
        if let folder = preprocessed {
            do {
                _ = try PreprocessedDataset.open(folder, plans: plans, plansPath: plansPath, configuration: name)
            } catch let e as ImagingError {
                throw TrainingError("--preprocessed \(e.description)")
            }
            return (o + ["data.preprocessed=\"\(folder)\""], warnings)
        }
        if zip(plans.originalMedianSpacing, c.spacing).contains(where: { abs($0 - $1) > 1e-3 * $1 }) {
            warnings.append("\(plansPath): configuration \(name) plans spacing \(c.spacing) mm; training reads \(plans.dataset) at its own spacing "
                            + "(median \(plans.originalMedianSpacing)), so the patch covers a different extent than planned; train at the planned "
                            + "spacing with `contour data preprocess \(plans.dataset) --plans \(plansPath) --configuration \(name) --output DIR` "
                            + "and --preprocessed DIR")
        }
        return (o, warnings)
    }
}
