import Foundation
import NeuralNet

/// Balancers by name with typed options; a package depending on Contour registers its own.
public enum BalancerRegistry {
    public struct Entry: Sendable {
        public let name: String
        public let summary: String
        let make: @Sendable (Options) throws -> any Balancer
    }

    private static let lock = NSLock()
    nonisolated(unsafe) private static var registered: [Entry] = [
        Entry(name: "sum", summary: "linear scalarisation Σ w·L (one backward; the default)") { o in try o.finish(); return SumBalancer() },
        Entry(name: "pcgrad", summary: "PCGrad gradient surgery (Yu et al. 2020); reduction (sum|mean), seed") { o in
            let b = try PCGrad(options: o); try o.finish(); return b },
    ]

    public static var entries: [Entry] { lock.withLock { registered } }
    public static var names: [String] { entries.map(\.name) }

    /// Adds a balancer; an existing name is an error unless `replace`.
    public static func register(name: String, summary: String, replace: Bool = false,
                                make: @escaping @Sendable (Options) throws -> any Balancer) throws {
        try lock.withLock {
            if let i = registered.firstIndex(where: { $0.name == name }) {
                guard replace else { throw ObjectiveError("a balancer named '\(name)' is already registered") }
                registered[i] = Entry(name: name, summary: summary, make: make)
            } else {
                registered.append(Entry(name: name, summary: summary, make: make))
            }
        }
    }

    public static func make(_ name: String, options: [String: ConfigValue] = [:]) throws -> any Balancer {
        guard let e = entries.first(where: { $0.name == name }) else {
            throw ObjectiveError("unknown balancer '\(name)'; known: \(names.joined(separator: ", "))")
        }
        return try e.make(Options(options, for: "balancer \(name)"))
    }
}
