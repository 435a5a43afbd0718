import Foundation

/// Told by `Trainer` what happens in a run (TensorBoard is one). `step` counts optimiser
/// iterations across all stages, so every observer sees one monotonic x axis.
public protocol TrainingObserver: AnyObject {
    /// Before the first step; `resumed` when continuing from a checkpoint taken at `step`.
    func trainingWillStart(step: Int, resumed: Bool) throws
    /// After each applied update (skipped non-finite steps are not reported); `weights` are the
    /// balancer's per objective, empty when it has none (`sum`, `pcgrad`).
    func stepDidEnd(step: Int, total: Double, losses: [String: Double], weights: [String: Double], learningRate: Double) throws
    /// After an epoch's log line is written (validation means included when it ran).
    func epochDidEnd(step: Int, record: EpochRecord) throws
    /// With the report's overlays (best, median and worst validation cases) once the run finished.
    func trainingDidEnd(overlays: [RunReport.Overlay]) throws
}

public extension TrainingObserver {
    func trainingWillStart(step: Int, resumed: Bool) throws {}
    func stepDidEnd(step: Int, total: Double, losses: [String: Double], weights: [String: Double], learningRate: Double) throws {}
    func epochDidEnd(step: Int, record: EpochRecord) throws {}
    func trainingDidEnd(overlays: [RunReport.Overlay]) throws {}
}
