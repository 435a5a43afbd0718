import Foundation
import Imaging
import NeuralNet

/// One training iteration, as nnU-Net's `train_step`: it takes a batch and writes a parameter
/// update into `.grad` (through `StepContext.apply`), returning the losses. The trainer loop
/// around it — schedule, clipping, non-finite handling, optimiser step, epochs, validation,
/// checkpoints, stages — is the same for every step and never names a method.
///
/// The default step is forward → targets → objectives → balancer. Others (a consistency pair,
/// batches from two datasets) are registered by name in `TrainingStepRegistry` and chosen by
/// `step: {name, options}` in the configuration; a Swift user registers their own.
public protocol TrainingStep: AnyObject {
    var name: String { get }
    func step(_ batch: Batch, context: StepContext) throws -> StepOutcome
    /// Called before an epoch's first iteration (`epoch` counts from 1 within the stage).
    func epochWillStart(_ epoch: Int, context: StepContext) throws
    /// Called after an epoch, with its validation means when it validated.
    func epochDidEnd(_ epoch: Int, validation: [String: Double]?, context: StepContext) throws
    /// What the step changes while training, for checkpoints.
    func state() -> [String: ConfigValue]
    func load(state: [String: ConfigValue]) throws
    /// How the step wants its batches made from the training cases (`paired`: landmark cases then
    /// segmentation cases); nil, the default, is plain shuffled batches of every case.
    func composition(cases: [DatasetCase], batchSize: Int) throws -> BatchComposition?
}

extension TrainingStep {
    public func epochWillStart(_ epoch: Int, context: StepContext) throws {}
    public func epochDidEnd(_ epoch: Int, validation: [String: Double]?, context: StepContext) throws {}
    public func state() -> [String: ConfigValue] { [:] }
    public func load(state: [String: ConfigValue]) throws {}
    public func composition(cases: [DatasetCase], batchSize: Int) throws -> BatchComposition? { nil }
}

/// Forward the batch, score every objective on the model's heads against the batch's targets,
/// and let the balancer turn the losses into one update.
public final class DefaultStep: TrainingStep {
    public init() {}
    public var name: String { "default" }

    public func step(_ batch: Batch, context: StepContext) throws -> StepOutcome {
        let heads = try context.forward(try context.inputs(batch))
        return try context.apply(try context.losses(heads, try context.targets(batch)))
    }
}

/// Training steps by name; a package depending on Contour registers its own.
public enum TrainingStepRegistry {
    public struct Entry: Sendable {
        public let name: String
        public let summary: String
        let make: @Sendable (Options) throws -> any TrainingStep
    }

    static let store = RegistryStore([
        Entry(name: "default", summary: "forward, objectives on the model's heads, balancer → one update") { o in
            try o.finish(); return DefaultStep() },
        Entry(name: "paired", summary: "HPL batches (BaBLoss): h landmark cases then h segmentation cases in one forward; "
              + "landmarkRepeats (1), segmentationRepeats (1), landmarkSamples (batchSize/2)") { o in try PairedStep(options: o) },
        Entry(name: "consistency", summary: "ConDSeg CR: forwards of the batch and its strong augmentation (heads strong.<name>); parity, brightness, hue, sigma, …") {
            try ConsistencyStep(options: $0) },
    ], kind: "training step") { $0.name }

    public static var entries: [Entry] { store.entries }
    public static var names: [String] { store.names }

    /// Adds a step that configurations can name (`step: {name: …}`); an existing name is an error unless `replace`.
    public static func register(name: String, summary: String, replace: Bool = false,
                                make: @escaping @Sendable (Options) throws -> any TrainingStep) throws {
        if let problem = store.add(Entry(name: name, summary: summary, make: make), replace: replace) { throw TrainingError(problem) }
    }

    public static func make(_ name: String, options: [String: ConfigValue] = [:]) throws -> any TrainingStep {
        guard let e = store.entry(named: name) else {
            throw TrainingError("unknown training step '\(name)'; known: \(names.joined(separator: ", "))")
        }
        return try e.make(Options(options, for: "step \(name)"))
    }
}
