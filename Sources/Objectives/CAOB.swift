import NeuralNet
import Torch

/// CAOB, HadBalance's conflict-aware objective balancing (METHODS §3.6): PGP purifies the
/// auxiliaries against the primary, then AGB weighs the purified gradients.
/// Options: PGP's `slack` and AGB's `normalize`, `anchorPrimary`, `anchorValue`, `useUnitGram`.
public final class CAOB: ProjectingBalancer {
    public let pgp: PGP
    public let agb: AGB
    public private(set) var lastProjected: [Int] = []
    public private(set) var lastWeights: [Double]?

    public init(pgp: PGP = PGP(), agb: AGB = AGB()) {
        self.pgp = pgp
        self.agb = agb
    }

    public convenience init(options: Options) throws {
        self.init(pgp: try PGP(options: options), agb: try AGB(options: options))
    }

    public var name: String { "caob" }
    public var needsGradients: Bool { true }

    public func combine(_ gradients: [Tensor], losses: [Double]) throws -> Tensor {
        let (purified, projected) = try pgp.purify(gradients)
        let d = try agb.combine(purified, losses: losses)
        lastProjected = projected
        lastWeights = agb.lastWeights
        return d
    }
}
