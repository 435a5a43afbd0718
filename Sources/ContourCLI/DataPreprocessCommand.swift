import ArgumentParser
import Foundation
import Imaging
import Training

/// `contour data preprocess DATASET --plans P --configuration C --output DIR`.
struct DataPreprocessCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "preprocess",
        abstract: "Crop, normalise and resample every training case of a plan's configuration into .npy files.",
        discussion: """
        Each case becomes DIR/CASE.npy (float32 [C, …]), DIR/CASE_seg.npy (uint8) and DIR/CASE.json (original \
        shape, spacing, affine, crop box, foreground voxel locations per class). Images: third-order spline \
        (order 0 along the coarse axis when spacing is anisotropic, nnU-Net's separate-z rule); labels: per-class \
        linear then argmax, or nearest. A rerun skips complete cases (resumable); each case's files appear whole.
        """)

    @Argument(help: "Dataset folder (dataset.json, imagesTr/, labelsTr/).") var dataset: String
    @Option(help: "Plans file from `contour data plan`.") var plans: String
    @Option(help: "Configuration of the plan: 3d_fullres, 3d_lowres or 2d.") var configuration: String
    @Option(help: "Output folder.") var output: String
    @Option(help: "Cases processed in parallel.") var jobs = ProcessInfo.processInfo.activeProcessorCount
    @Option(help: "Label resampling: linear (per-class linear, argmax) or nearest; default: the plan's.") var labels: String?

    func run() throws {
        guard jobs >= 1 else { throw ValidationError("--jobs \(jobs): expected ≥ 1") }
        var mode: Resampling.LabelMode?
        if let labels {
            guard let m = Resampling.LabelMode(rawValue: labels) else { throw ValidationError("--labels \(labels): expected linear or nearest") }
            mode = m
        }
        let plan = try ExperimentPlans.read(path: plans)
        let ds = try Dataset.open(URL(fileURLWithPath: dataset).standardizedFileURL.path)
        let pre = try Preprocessor(plans: plan, configuration: configuration, plansPath: plans, labelMode: mode)
        let progress = Progress(total: ds.training.count, label: "preprocess", quiet: false)
        let start = Date()
        let summary = try pre.run(ds, output: output, jobs: jobs) { done, _ in progress.update(done, "") }
        print("\(output): \(summary.written.count) cases written, \(summary.skipped.count) already complete (skipped), "
              + String(format: "%.1f s; ", Date().timeIntervalSince(start)) + "spacing \(pre.configuration.spacing), labels \(pre.labelMode.rawValue)")
    }
}
