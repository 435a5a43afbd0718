/// Training stopped on request (SIGINT/SIGTERM) after a finished step, with `latest` saved there.
public struct TrainingInterrupted: Error, CustomStringConvertible {
    public var runFolder: String
    /// The epoch (counted across stages) that was cut short, and the steps of it that were done.
    public var epoch: Int
    public var step: Int
    public var stepsPerEpoch: Int
    public var signal: String

    public var description: String {
        "interrupted by \(signal) in epoch \(epoch) after step \(step)/\(stepsPerEpoch); saved \(runFolder)/checkpoints/latest. "
            + "Continue with: contour train --resume \(runFolder)"
    }
}
