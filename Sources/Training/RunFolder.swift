import Foundation
import Imaging

/// The rules that keep a run folder's work safe: a folder holding a run is never trained into
/// afresh (it is continued, or moved aside on request, never deleted); the saved configuration
/// holds absolute paths, so a resume works from any working directory and in a copied folder;
/// the train/validation split is saved as `splits.json` (nnU-Net's `splits_final.json` format).
public enum RunFolder {
    /// The saved split's file name inside a run.
    public static let splitsName = "splits.json"

    public static func splitsPath(_ run: String) -> String { "\(run)/\(splitsName)" }

    /// True when `folder` holds a run: a config.yaml, a log.jsonl or a non-empty checkpoints/
    /// (a run killed before its first checkpoint counts, an empty checkpoints/ does not).
    public static func holdsRun(_ folder: String) -> Bool {
        let fm = FileManager.default
        if fm.fileExists(atPath: "\(folder)/config.yaml") || fm.fileExists(atPath: "\(folder)/log.jsonl") { return true }
        return !((try? fm.contentsOfDirectory(atPath: "\(folder)/checkpoints")) ?? []).isEmpty
    }

    /// The refusal to train afresh into `folder`, naming both ways on.
    static func refusal(_ folder: String) -> TrainingError {
        TrainingError("\(folder) already holds a run (config.yaml, log.jsonl or checkpoints/); continue it with "
                      + "`contour train --resume \(folder)`, or start again with --overwrite (Swift: train(overwrite: true)), "
                      + "which moves the old run to \(folder).replaced-DATE (never deleted)")
    }

    /// Renames `folder` (with everything in it: checkpoints, logs, evaluation-* folders) to
    /// `folder.replaced-YYYYMMDD-HHMMSS`, or `…-2`, `…-3` when taken, and returns the new path.
    public static func moveAside(_ folder: String, now: Date = Date()) throws -> String {
        var trimmed = folder
        while trimmed.count > 1 && trimmed.hasSuffix("/") { trimmed.removeLast() }
        let format = DateFormatter()
        format.locale = Locale(identifier: "en_US_POSIX")
        format.dateFormat = "yyyyMMdd-HHmmss"
        let base = "\(trimmed).replaced-\(format.string(from: now))"
        var target = base, n = 2
        while FileManager.default.fileExists(atPath: target) {
            target = "\(base)-\(n)"
            n += 1
        }
        // One rename: the old run is either wholly where it was or wholly moved.
        guard rename(trimmed, target) == 0 else {
            throw TrainingError("\(trimmed): cannot move the previous run aside to \(target): \(String(cString: strerror(errno)))")
        }
        return target
    }

    /// `path` made absolute against `directory` (unchanged when absolute or empty).
    public static func absolute(_ path: String, in directory: String = FileManager.default.currentDirectoryPath) -> String {
        guard !path.isEmpty, !path.hasPrefix("/") else { return path }
        return URL(fileURLWithPath: path, relativeTo: URL(fileURLWithPath: directory, isDirectory: true)).standardizedFileURL.path
    }

    /// The configuration with `data.dataset`, `data.splits`, `data.preprocessed`, `run.output`, `model.pretrained` and a path `init.from`
    /// absolute against `directory`, as `config.yaml` stores them.
    public static func absolutePaths(_ config: ExperimentConfig,
                                     in directory: String = FileManager.default.currentDirectoryPath) -> ExperimentConfig {
        var c = config
        c.data.dataset = absolute(c.data.dataset, in: directory)
        c.data.splits = c.data.splits.map { absolute($0, in: directory) }
        c.data.preprocessed = c.data.preprocessed.map { absolute($0, in: directory) }
        c.run.output = absolute(c.run.output, in: directory)
        if let file = c.model.pretrained?.file { c.model.pretrained?.file = absolute(file, in: directory) }
        if let from = c.initialization?.from, !c.stages.contains(where: { $0.name == from }),
           FileManager.default.fileExists(atPath: absolute(from, in: directory)) {
            c.initialization?.from = absolute(from, in: directory)
        }
        return c
    }

    /// `config.yaml`'s text: a comment recording the working directory the relative paths were
    /// resolved against (YAML readers skip it), then the configuration with absolute paths.
    public static func savedConfigText(_ config: ExperimentConfig,
                                       directory: String = FileManager.default.currentDirectoryPath) throws -> String {
        "# working directory: \(directory) (relative paths given there are stored absolute)\n"
            + (try absolutePaths(config, in: directory).yaml())
    }

    /// The configuration that continues the run in `folder`: its config.yaml with `overrides`,
    /// written into `folder` itself (so a copied run resumes in the copy), on the saved split.
    public static func resumeConfig(_ folder: String, overrides: [String] = []) throws -> ExperimentConfig {
        var config = try ExperimentConfig.load(path: "\(folder)/config.yaml", overrides: overrides)
        config.run.output = folder
        if FileManager.default.fileExists(atPath: splitsPath(folder)) { config.data.splits = absolute(splitsPath(folder)) }
        return config
    }

    /// Every fold's split as `config` resolves it against the case `ids` (nnU-Net writes all folds
    /// too; with fewer than 2 × folds cases every fold is the same hold-out).
    public static func splits(config: ExperimentConfig, ids: [String]) throws -> [Split] {
        if let path = config.data.splits { return try Splits.read(path: path) }
        return try (0..<config.data.folds).map { k in
            var c = config
            c.data.fold = k
            return try Experiment.split(config: c, ids: ids)
        }
    }

    /// The split of `fold` saved in `run`, or nil when the run has none (runs saved before Contour kept it).
    public static func savedSplit(_ run: String, fold: Int) throws -> Split? {
        let path = splitsPath(run)
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        let splits = try Splits.read(path: path)
        guard fold < splits.count else { throw TrainingError("\(path): data.fold is \(fold) but the file holds \(splits.count) splits") }
        return splits[fold]
    }

    /// The run folder a checkpoint folder belongs to (`RUN/checkpoints/NAME` → `RUN`), or nil.
    public static func containing(checkpoint dir: String) -> String? {
        let url = URL(fileURLWithPath: dir).standardizedFileURL
        let parent = url.deletingLastPathComponent()
        guard parent.lastPathComponent == "checkpoints" else { return nil }
        return parent.deletingLastPathComponent().path
    }
}
