import Foundation
import NeuralNet
import Torch

/// What a checkpoint records besides tensors.
public struct TrainingState: Codable, Sendable, Equatable {
    /// Epochs completed.
    public var epoch: Int
    public var iteration: Int
    public var bestValue: Double?
    public var bestEpoch: Int?
    public var skippedSteps: Int
    public var config: [String: ConfigValue]
    public var contourVersion: String
    /// What inference needs without the dataset.
    public var channelNames: [String]?
    public var labels: [String: Int]?
    public var patchSize: [Int]?
    public var landmarkNames: [String]?
    /// Multi-stage runs: the stage's index and name, epochs done within it, and whether it ended.
    /// `epoch` counts across stages; `iteration` within the stage; `config` is the stage's.
    public var stage: Int?
    public var stageName: String?
    public var stageEpoch: Int?
    public var stageFinished: Bool?
    /// What the balancer, the step and the schedule changed while training.
    public var balancer: [String: ConfigValue]?
    public var step: [String: ConfigValue]?
    public var plateau: ReduceOnPlateau?
    public var earlyStopping: EarlyStopping?
    /// The stage's data position and the number of workers that trained (nil: a checkpoint of an
    /// older version, whose position follows from `iteration`).
    public var data: DataPosition?
    public var worldSize: Int?
    /// Set when the run was interrupted inside epoch `stageEpoch + 1`: what that epoch had done.
    public var partialEpoch: PartialEpoch?

    /// The steps of an unfinished epoch and its running sums, so a resumed epoch continues at the
    /// next step and its log line still averages over all of its steps.
    public struct PartialEpoch: Codable, Sendable, Equatable {
        public var steps: Int
        public var lossSum: Double
        public var counted: Int
        public var termSums: [Double]
        public var weightSums: [Double]
        public var weighted: Int
        public var seconds: Double
    }

    public init(epoch: Int, iteration: Int, bestValue: Double?, bestEpoch: Int?, skippedSteps: Int,
                config: [String: ConfigValue], contourVersion: String, channelNames: [String]? = nil,
                labels: [String: Int]? = nil, patchSize: [Int]? = nil) {
        self.channelNames = channelNames
        self.labels = labels
        self.patchSize = patchSize
        self.epoch = epoch
        self.iteration = iteration
        self.bestValue = bestValue
        self.bestEpoch = bestEpoch
        self.skippedSteps = skippedSteps
        self.config = config
        self.contourVersion = contourVersion
    }
}

/// Checkpoints under `RUN/checkpoints/`. Each save writes a new folder
/// (`model.safetensors` — PyTorch-loadable state dict —, `optimizer.safetensors`,
/// `state.json`), flushes it, then swaps the `latest`/`best` symlink to it with one
/// `rename`: a process killed at any moment leaves the previous or the new checkpoint,
/// never a partial one. Saving `latest` keeps the one before as `previous` (the last two are
/// retained), the fallback when `latest` turns out damaged. A save that fails (full disk,
/// read-only folder, file-size limit) removes its partial folder and throws naming the file;
/// the links still point at the previous checkpoints.
public struct CheckpointStore {
    public let folder: String

    public init(folder: String) throws {
        self.folder = folder
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    }

    /// `rng`: the default generator's state, restored on resume.
    public func save(_ name: String, model: Module, optimizer: Optimizer, state: TrainingState, rng: Tensor? = nil) throws {
        for (key, t) in model.stateDict() where t.dtype.isFloatingPoint {
            guard try t.isFinite().all().item() == 1 else {
                throw TrainingError("refusing to save a non-finite model: \(key) has NaN or infinite values")
            }
        }
        let dir = "\(folder)/\(name)-e\(String(format: "%04d", state.epoch))-\(UInt32.random(in: 0...UInt32.max))"
        do {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            try model.save(to: "\(dir)/model.safetensors", metadata: ["format": "pt", "epoch": "\(state.epoch)"])
            try Safetensors.save(try optimizer.stateTensors(), to: "\(dir)/optimizer.safetensors")
            if let rng { try Safetensors.save([("cpu", rng)], to: "\(dir)/rng.safetensors") }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try AtomicFile.write(Array(try encoder.encode(state)), to: "\(dir)/state.json")
        } catch {
            try? FileManager.default.removeItem(atPath: dir)
            let kept = path(name).map { "; \($0) still holds the previous checkpoint" } ?? ""
            throw TrainingError("cannot save checkpoint '\(name)' (epoch \(state.epoch)): \(error)\(kept)")
        }
        if name == "latest", let old = try? FileManager.default.destinationOfSymbolicLink(atPath: "\(folder)/latest") {
            // No clean-up yet: the new folder is not linked until the next line.
            try point("previous", at: old, clean: false)
        }
        try point(name, at: URL(fileURLWithPath: dir).lastPathComponent)
    }

    /// Makes `name` another link to the checkpoint `source` points at (e.g. a finished stage's
    /// weights kept as `stage-NAME` for a later stage's `init.from`).
    public func alias(_ name: String, to source: String) throws {
        guard let target = try? FileManager.default.destinationOfSymbolicLink(atPath: "\(folder)/\(source)") else {
            throw TrainingError("\(folder)/\(source): no such checkpoint to link \(name) to")
        }
        try point(name, at: target)
    }

    /// Swaps link `name` to `target` with one rename, then (with `clean`) removes what nothing points to.
    private func point(_ name: String, at target: String, clean: Bool = true) throws {
        let link = "\(folder)/\(name)"
        let previous = try? FileManager.default.destinationOfSymbolicLink(atPath: link)
        let tmp = "\(link).tmp-\(UInt32.random(in: 0...UInt32.max))"
        guard symlink(target, tmp) == 0 else {
            throw TrainingError("cannot create \(tmp): \(String(cString: strerror(errno)))")
        }
        guard rename(tmp, link) == 0 else {
            unlink(tmp)
            throw TrainingError("cannot update \(link): \(String(cString: strerror(errno)))")
        }
        let dfd = open(folder, O_RDONLY | O_DIRECTORY)
        if dfd >= 0 { fsync(dfd); close(dfd) }
        guard clean else { return }
        if let previous, previous != target, !isReferenced(previous) {
            try? FileManager.default.removeItem(atPath: "\(folder)/\(previous)")
        }
        removeOrphans()
    }

    /// Folders that no link points to (left by a killed save) are removed.
    func removeOrphans() {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder) else { return }
        for n in names where n.contains("-e") && !n.contains(".tmp-") && !isLink(n) && !isReferenced(n) {
            try? FileManager.default.removeItem(atPath: "\(folder)/\(n)")
        }
        for n in names where n.contains(".tmp-") { unlink("\(folder)/\(n)") }
    }

    func isLink(_ name: String) -> Bool {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "\(folder)/\(name)")) != nil
    }

    /// Whether any link (latest, best, stage-NAME) points at `target`.
    func isReferenced(_ target: String) -> Bool {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        return names.contains { n in
            !n.contains(".tmp-") && (try? FileManager.default.destinationOfSymbolicLink(atPath: "\(folder)/\(n)")) == target
        }
    }

    /// The folder of checkpoint `name`, or nil if none was saved.
    public func path(_ name: String) -> String? {
        let link = "\(folder)/\(name)"
        return FileManager.default.fileExists(atPath: "\(link)/state.json") ? link : nil
    }

    /// Reads a checkpoint folder: state, model weights into `model`, optimiser state into `optimizer`.
    public static func load(_ dir: String, into model: Module, optimizer: Optimizer? = nil) throws -> TrainingState {
        let state = try readState(dir)
        try model.load(from: "\(dir)/model.safetensors")
        if let optimizer {
            var tensors: [String: Tensor] = [:]
            for (k, t) in try Safetensors.load("\(dir)/optimizer.safetensors").tensors { tensors[k] = t }
            try optimizer.loadStateTensors(tensors)
        }
        return state
    }

    /// The default generator's state saved with the checkpoint, if any.
    public static func rngState(_ dir: String) throws -> Tensor? {
        let path = "\(dir)/rng.safetensors"
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        return try Safetensors.load(path).tensors.first { $0.name == "cpu" }?.tensor
    }

    public static func readState(_ dir: String) throws -> TrainingState {
        let path = "\(dir)/state.json"
        guard let data = FileManager.default.contents(atPath: path) else {
            throw TrainingError("\(dir): not a checkpoint (no readable state.json)")
        }
        do {
            return try JSONDecoder().decode(TrainingState.self, from: data)
        } catch let DecodingError.keyNotFound(key, context) {
            throw TrainingError("\(path): field '\(Self.keyPath(context.codingPath + [key]))' is missing; the checkpoint is damaged or from another program")
        } catch let DecodingError.typeMismatch(_, context), let DecodingError.valueNotFound(_, context) {
            throw TrainingError("\(path): field '\(Self.keyPath(context.codingPath))' has the wrong type; the checkpoint is damaged or from another program")
        } catch {
            throw TrainingError("\(path): not valid JSON; the checkpoint is damaged (a copy cut short?)")
        }
    }

    static func keyPath(_ path: [any CodingKey]) -> String {
        path.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined().trimmingCharacters(in: CharacterSet(charactersIn: "."))
    }
}
