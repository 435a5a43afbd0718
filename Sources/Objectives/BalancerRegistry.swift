import Foundation
import NeuralNet

/// Balancers by name with typed options; a package depending on Contour registers its own.
public enum BalancerRegistry {
    public struct Entry: Sendable {
        public let name: String
        public let summary: String
        let make: @Sendable (Options) throws -> any Balancer
    }

    static let store = RegistryStore([
        Entry(name: "sum", summary: "linear scalarisation Σ w·L (one backward; the default)") { o in try o.finish(); return SumBalancer() },
        Entry(name: "pcgrad", summary: "PCGrad gradient surgery (Yu et al. 2020); reduction (sum|mean), seed") { o in
            let b = try PCGrad(options: o); try o.finish(); return b },
        Entry(name: "pgp", summary: "HadBalance PGP: auxiliaries projected off the primary when their coefficient < slack (-0.01); sum; every (1)") { o in
            let b = try PGP(options: o); try o.finish(); return b },
        Entry(name: "agb", summary: "HadBalance AGB: Gα = 1/√α (FairGrad-2); normalize (true), anchorPrimary, anchorValue, useUnitGram, every (1)") { o in
            let b = try AGB(options: o); try o.finish(); return b },
        Entry(name: "caob", summary: "HadBalance CAOB = PGP then AGB; slack, the agb options, every (1)") { o in
            let b = try CAOB(options: o); try o.finish(); return b },
        Entry(name: "fairgrad", summary: "FairGrad (Ban & Ji 2024): GᵀGα = α^(-1/a); a (2), normalize (false), every (1)") { o in
            let b = try FairGrad(options: o); try o.finish(); return b },
        Entry(name: "nash-mtl", summary: "Nash-MTL (Navon et al. 2022): GᵀGα = 1/α; normalize (false), every (1)") { o in
            let b = try NashMTL(options: o); try o.finish(); return b },
        Entry(name: "mgda", summary: "MGDA min-norm point by Frank–Wolfe (MGDA-UB solver); maxIterations (250), tolerance (1e-6), every (1)") { o in
            let b = try MGDA(options: o); try o.finish(); return b },
        Entry(name: "dwa", summary: "Dynamic Weight Average (BaBLoss's dyn): λ = softmax(L/L_prev-epoch-last / T), 1 in epoch 1; temperature (2)") { o in
            let b = try DWA(options: o); try o.finish(); return b },
    ], kind: "balancer") { $0.name }

    public static var entries: [Entry] { store.entries }
    public static var names: [String] { store.names }

    /// Adds a balancer that configurations can name (`balancer: {name: …}`); an existing name is an error unless `replace`.
    public static func register(name: String, summary: String, replace: Bool = false,
                                make: @escaping @Sendable (Options) throws -> any Balancer) throws {
        if let problem = store.add(Entry(name: name, summary: summary, make: make), replace: replace) { throw ObjectiveError(problem) }
    }

    public static func make(_ name: String, options: [String: ConfigValue] = [:]) throws -> any Balancer {
        guard let e = store.entry(named: name) else {
            throw ObjectiveError("unknown balancer '\(name)'; known: \(names.joined(separator: ", "))")
        }
        return try e.make(Options(options, for: "balancer \(name)"))
    }
}
