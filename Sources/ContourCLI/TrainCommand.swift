import ArgumentParser
import Foundation
import Geometry
import Torch
import Training

/// `contour train`: a run from a configuration file and/or flags, or `--resume RUN`.
struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a segmentation model.",
        discussion: """
        Configuration: a YAML or JSON file (--config) with sections data, model, objectives, optimizer, run; \
        any field can be set with --set section.key=value (e.g. --set optimizer.learningRate=0.003), and the \
        common ones have flags below. Unknown keys are errors. The run folder gets config.yaml (paths made \
        absolute), splits.json (the train/validation split), log.jsonl, checkpoints/{latest,best} and report.html.

        A folder that holds a run is never trained into afresh: continue it with --resume DIR, or pass \
        --overwrite to move the old run to DIR.replaced-DATE (never deleted). --resume DIR continues in DIR \
        (a copied run folder resumes in the copy); with a larger run.epochs a finished run trains on, and a \
        warning says how the learning-rate schedule continues.

        Distributed (data-parallel) training: --nproc-per-node N starts N workers on this machine; a worker \
        started by torchrun, SLURM or by hand joins the job the variables MASTER_ADDR, MASTER_PORT, RANK, \
        WORLD_SIZE (and LOCAL_RANK, LOCAL_WORLD_SIZE) describe. Each worker reads data.batchSize samples per \
        step, so a step's global batch is data.batchSize × the number of workers; rank 0 writes the run folder.

        While training, the run folder is locked (RUN/train.lock): a second train into it refuses, naming the \
        process. Ctrl-C (SIGINT) or SIGTERM finishes the current step, saves checkpoints/latest and exits with \
        130 / 143; --resume RUN continues at the next step. A second signal exits at once.
        """)

    @Option(help: "Configuration file (YAML or JSON).") var config: String?
    @Option(help: "Continue the run in this folder from its latest checkpoint.") var resume: String?
    @Option(help: "With --resume: the checkpoint to continue from, latest or previous (the one before, kept for when latest is damaged).")
    var resumeFrom = "latest"
    @Option(help: "Override a configuration field: key.path=value (repeatable).") var set: [String] = []
    @Option(help: "A plans file from `contour data plan`: dataset, patch, batch, U-Net topology and normalisation of --configuration (before --set).") var plans: String?
    @Option(help: "The configuration of --plans to train: 3d_fullres, 3d_lowres or 2d.") var configuration: String?
    @Option(help: "Train from this `contour data preprocess` folder (memory-mapped patches at the planned spacing; data.preprocessed); with --plans it must hold that plan's --configuration.")
    var preprocessed: String?
    @Option(help: "Dataset folder (data.dataset).") var dataset: String?
    @Option(help: "Validation fold of the k-fold split (data.fold).") var fold: Int?
    @Option(help: "Model name (model.name); see `contour models`.") var model: String?
    @Option(help: "Objectives, comma-separated, e.g. cedice or scnp+cedice,cldice (objectives); see `contour loss --help`.") var loss: String?
    @Option(help: "Epochs (run.epochs).") var epochs: Int?
    @Option(help: "Iterations per epoch (run.iterationsPerEpoch).") var iterations: Int?
    @Option(help: "Batch size (data.batchSize).") var batchSize: Int?
    @Option(help: "Patch size, e.g. 128,128 (data.patchSize).") var patchSize: String?
    @Option(help: "Learning rate (optimizer.learningRate).") var lr: Double?
    @Option(help: "Run folder (run.output).") var output: String?
    @Option(help: "Device: auto, cpu, cuda, cuda:N (run.device).") var device: String?
    @Option(help: "CPU threads (run.threads).") var threads: Int?
    @Option(help: "Random seed (run.seed).") var seed: Int?
    @Option(help: "Starting weights, .safetensors or PyTorch .pth, loaded by exact key (model.pretrained.file).") var pretrained: String?
    @Option(help: "Load --pretrained into the submodule with this key prefix, e.g. encoder. (model.pretrained.prefix).") var pretrainedPrefix: String?
    @Flag(help: "If the run folder holds a run, move it aside to FOLDER.replaced-DATE (never deleted) and start again.") var overwrite = false
    @Flag(help: "Only print the final summary.") var quiet = false
    @OptionGroup var distributed: DistributedOptions

    func overrides() throws -> [String] {
        var o: [String] = []
        if let plans {
            guard let configuration else { throw ValidationError("--plans \(plans): name the configuration to train with --configuration (3d_fullres, 3d_lowres or 2d)") }
            let planned = try PlanConfiguration.overrides(plansPath: plans, configuration: configuration, preprocessed: preprocessed)
            for w in planned.warnings { FileHandle.standardError.write(Data("warning: \(w)\n".utf8)) }
            o = planned.overrides
        } else if configuration != nil {
            throw ValidationError("--configuration picks a configuration of --plans FILE; give --plans too")
        }
        if let preprocessed, plans == nil { o.append("data.preprocessed=\"\(preprocessed)\"") }
        o += set
        if let dataset { o.append("data.dataset=\(dataset)") }
        if let fold { o.append("data.fold=\(fold)") }
        if let model { o.append("model.name=\(model)") }
        if let loss { o.append("objectives=\"\(loss)\"") }
        if let epochs { o.append("run.epochs=\(epochs)") }
        if let iterations { o.append("run.iterationsPerEpoch=\(iterations)") }
        if let batchSize { o.append("data.batchSize=\(batchSize)") }
        if let patchSize { o.append("data.patchSize=[\(patchSize)]") }
        if let lr { o.append("optimizer.learningRate=\(lr)") }
        if let output { o.append("run.output=\(output)") }
        if let device { o.append("run.device=\(device)") }
        if let threads { o.append("run.threads=\(threads)") }
        if let seed { o.append("run.seed=\(seed)") }
        if let pretrained { o.append("model.pretrained.file=\(pretrained)") }
        if let pretrainedPrefix { o.append("model.pretrained.prefix=\"\(pretrainedPrefix)\"") }
        return o
    }

    func run() throws {
        if try distributed.launchWorkers() { return }
        let experiment: ExperimentConfig
        if resume == nil && resumeFrom != "latest" { throw ValidationError("--resume-from \(resumeFrom) needs --resume RUN") }
        if let resume {
            guard ["latest", "previous"].contains(resumeFrom) else { throw ValidationError("--resume-from: expected latest or previous, got \(resumeFrom)") }
            if overwrite { throw ValidationError("--resume \(resume) continues that run, --overwrite starts a new one: give one of them") }
            if output != nil { throw ValidationError("--output: a resumed run continues in its own folder (\(resume)); copy the folder and --resume the copy") }
            if config != nil { throw ValidationError("--config: --resume uses \(resume)/config.yaml; change its fields with --set key=value") }
            experiment = try Trainer.savedConfig(resume, overrides: try overrides())
        } else if let config {
            experiment = try ExperimentConfig.load(path: config, overrides: try overrides())
        } else {
            experiment = try ExperimentConfig.fromOverrides(try overrides())
        }
        let group = try distributed.join(device: experiment.run.device)
        // Ctrl-C / SIGTERM: finish the step, save `latest`, say how to resume, exit 130 / 143.
        Interruption.install()
        let trainer = try Trainer(config: experiment, quiet: quiet, distributed: group)
        let summary: TrainingSummary
        do {
            summary = try trainer.train(resume: resume != nil, resumeFrom: resumeFrom, overwrite: overwrite)
        } catch let stop as TrainingInterrupted {
            if trainer.isMain { fputs("\(stop)\n", stderr) }
            throw ExitCode(Interruption.exitCode)
        }
        guard trainer.isMain else { return }
        let v = summary.validation
        let landmarks = v["mre"].map { String(format: ", landmark MRE %.2f mm", $0) } ?? ""
        print(String(format: "done: %@ — validation Dice %.4f, HD95 %.2f, β0 error %.2f%@ (best %@ at epoch %@); report: %@/report.html",
                     summary.runFolder, v["dice"] ?? .nan, v["hd95"] ?? .nan, v["betti0_error"] ?? .nan, landmarks,
                     experiment.run.bestMetric, summary.bestEpoch.map(String.init) ?? "–", summary.runFolder))
        if summary.skippedSteps > 0 { print("note: \(summary.skippedSteps) steps were skipped for non-finite loss or gradients") }
    }
}
