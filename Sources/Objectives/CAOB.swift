import NeuralNet
import Torch

/// CAOB, HadBalance's conflict-aware objective balancing (METHODS §3.6): PGP purifies the
/// auxiliaries against the primary, then AGB weighs the purified gradients.
/// Options: PGP's `slack`, AGB's `normalize`, `anchorPrimary`, `anchorValue`, `useUnitGram`,
/// and `every` for both (projections and weights are decided on the same steps).
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
        let (purified, projected) = try pgp.purifyOnSchedule(gradients)
        let d = try agb.combine(purified, losses: losses)
        lastProjected = projected
        lastWeights = agb.lastWeights
        return d
    }

    public func state() -> [String: ConfigValue] { ["pgp": .object(pgp.state()), "agb": .object(agb.state())] }

    public func load(state: [String: ConfigValue]) throws {
        guard case .object(let p)? = state["pgp"], case .object(let a)? = state["agb"] else {
            throw ObjectiveError("caob state: expected {\"pgp\": {…}, \"agb\": {…}}, got \(state)")
        }
        try pgp.load(state: p)
        try agb.load(state: a)
    }
}
