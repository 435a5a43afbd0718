import Geometry

/// |β_i(prediction) − β_i(truth)| for i = 0, 1 (and 2 in 3D), METHODS §7.
public struct BettiErrors: Sendable, Equatable {
    public var prediction: BettiNumbers
    public var truth: BettiNumbers

    /// `gudhiCompatible` counts an empty mask as β0 = 1, as GUDHI (and TopoMortar) do.
    public init(prediction: Grid<Bool>, truth: Grid<Bool>, gudhiCompatible: Bool = false) throws {
        try requireSameShape(prediction, truth)
        self.prediction = try BettiNumbers(prediction, gudhiCompatible: gudhiCompatible)
        self.truth = try BettiNumbers(truth, gudhiCompatible: gudhiCompatible)
    }

    public var b0: Int { abs(prediction.b0 - truth.b0) }
    public var b1: Int { abs(prediction.b1 - truth.b1) }
    public var b2: Int { abs(prediction.b2 - truth.b2) }
}
