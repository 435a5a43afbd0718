import ArgumentParser
import Foundation
import Imaging
import Training

/// `contour data plan DATASET`: fingerprint + nnU-Net-style plans.
struct DataPlanCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan",
        abstract: "Fingerprint a dataset and plan 2d / 3d_fullres / 3d_lowres configurations as nnU-Net v2 does.",
        discussion: """
        Reads every training case: shape and spacing after cropping to the non-zero region, foreground \
        intensity statistics per channel (10 000 seeded samples per case), class frequencies. Plans per \
        configuration the target spacing, patch and batch size for --memory-budget, the U-Net's pooling and \
        kernels per axis, and per-channel normalisation. Train with `contour train --plans FILE --configuration \
        3d_fullres`; preprocess with `contour data preprocess`.
        """)

    @Argument(help: "Dataset folder (dataset.json, imagesTr/, labelsTr/).") var dataset: String
    @Option(help: "GPU (or CPU) memory a training step may use, GB (2^30 bytes).") var memoryBudget: Double = 8
    @Option(help: "Where to write the plans (JSON).") var output = "plans.json"
    @Option(help: "Cases read in parallel.") var jobs = ProcessInfo.processInfo.activeProcessorCount
    @Option(help: "Label resampling for preprocessing: linear (per-class linear, argmax) or nearest.") var labels = "linear"
    @Flag(help: "Print the plans JSON to stdout instead of the summary.") var json = false

    func run() throws {
        guard memoryBudget > 0, memoryBudget.isFinite else { throw ValidationError("--memory-budget \(memoryBudget): expected a positive number of GB") }
        guard let mode = Resampling.LabelMode(rawValue: labels) else { throw ValidationError("--labels \(labels): expected linear or nearest") }
        guard jobs >= 1 else { throw ValidationError("--jobs \(jobs): expected ≥ 1") }
        let root = URL(fileURLWithPath: dataset).standardizedFileURL.path
        let ds = try Dataset.open(root)
        let progress = Progress(total: ds.training.count, label: "fingerprint", quiet: json)
        let fingerprint = try DatasetFingerprint.extract(ds, jobs: jobs) { done, total in progress.update(done, "") }
        var planner = ExperimentPlanner(memoryBudgetGB: memoryBudget)
        planner.labelResampling = mode
        let plans = try planner.plan(fingerprint, dataset: root, labels: ds.description.labels.values.sorted())
        try plans.write(path: output)
        if json {
            print(String(decoding: try plans.encoded(), as: UTF8.self))
            return
        }
        print("\(root): \(fingerprint.cases.count) cases, median spacing \(plans.originalMedianSpacing), median shape after crop \(plans.originalMedianShape)")
        for n in plans.normalization {
            print("channel \(n.channel): \(n.scheme.rawValue)" + (n.clip.map { ", clip \($0), mean \(n.mean!), sd \(n.sd!)" } ?? "")
                  + (n.useNonZeroMask ? ", non-zero region only" : ""))
        }
        for name in ["2d", "3d_lowres", "3d_fullres"] {
            guard let c = plans.configurations[name] else { continue }
            print("\(name): spacing \(c.spacing.map { ($0 * 1000).rounded() / 1000 }), patch \(c.patchSize), batch \(c.batchSize), "
                  + "\(c.stages) stages, pools per axis \(c.poolsPerAxis), ≈\((c.estimatedMemoryGB * 100).rounded() / 100) GB")
        }
        print("plans: \(output)  (contour train --plans \(output) --configuration \(plans.configurations["3d_fullres"] != nil ? "3d_fullres" : "2d"))")
    }
}
