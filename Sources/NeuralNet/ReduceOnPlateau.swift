/// PyTorch's `ReduceLROnPlateau` as a factor on each group's base rate: after `patience`
/// validations without a relative improvement of `threshold` over the best value, the factor is
/// multiplied by `factor` (not below `minFactor`); `cooldown` validations then pass before
/// counting again. NaN values are ignored. The state is `Codable` for checkpoints.
public struct ReduceOnPlateau: Codable, Sendable, Equatable {
    public var higherIsBetter: Bool
    public var patience: Int
    public var reduction: Double
    public var threshold: Double
    public var cooldown: Int
    public var minFactor: Double
    /// The current factor (1 until the first reduction).
    public private(set) var factor = 1.0
    public private(set) var best: Double?
    public private(set) var badValidations = 0
    private var cooldownLeft = 0

    public init(higherIsBetter: Bool, patience: Int = 10, factor: Double = 0.1, threshold: Double = 1e-4, cooldown: Int = 0,
                minFactor: Double = 0) throws {
        guard patience >= 0 else { throw NeuralNetError("plateau patience must be ≥ 0, got \(patience)") }
        guard factor > 0, factor < 1 else { throw NeuralNetError("plateau factor must be in (0, 1), got \(factor)") }
        guard threshold >= 0, cooldown >= 0, minFactor >= 0 else { throw NeuralNetError("plateau threshold, cooldown and minFactor must be ≥ 0") }
        self.higherIsBetter = higherIsBetter
        self.patience = patience
        self.reduction = factor
        self.threshold = threshold
        self.cooldown = cooldown
        self.minFactor = minFactor
    }

    /// Records one validation value; returns true when the factor was reduced.
    @discardableResult
    public mutating func record(_ value: Double) -> Bool {
        guard value.isFinite else { return false }
        // PyTorch's 'rel' threshold mode, sign included.
        if let b = best, !(higherIsBetter ? value > b * (1 + threshold) : value < b * (1 - threshold)) {
            badValidations += 1
        } else {
            best = value
            badValidations = 0
        }
        if cooldownLeft > 0 {
            cooldownLeft -= 1
            badValidations = 0
        }
        guard badValidations > patience else { return false }
        let reduced = Swift.max(factor * reduction, minFactor)
        badValidations = 0
        cooldownLeft = cooldown
        guard reduced < factor else { return false }
        factor = reduced
        return true
    }
}
