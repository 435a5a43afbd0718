import Foundation

/// The storage behind the open registries (optimizers, objectives, models): built-ins first,
/// then entries a depending package registers, in registration order. A lock guards it because
/// registration may happen on any thread, including while another thread builds a run.
public final class RegistryStore<Entry>: @unchecked Sendable {
    private let lock = NSLock()
    private var ordered: [Entry]
    private let nameOf: @Sendable (Entry) -> String
    /// What the entries are ("objective"), for messages.
    public let kind: String
    /// Characters a name may not contain because configs use them to join names ("ce,dice", "scnp+dice").
    public let reserved: String

    public init(_ builtIns: [Entry], kind: String, reserved: String = "", name: @escaping @Sendable (Entry) -> String) {
        ordered = builtIns
        self.kind = kind
        self.reserved = reserved
        nameOf = name
    }

    public var entries: [Entry] { lock.withLock { ordered } }

    public var names: [String] { entries.map(nameOf) }

    public func entry(named name: String) -> Entry? {
        lock.withLock { ordered.first { nameOf($0) == name } }
    }

    /// Adds `entry`, or replaces the one of the same name when `replace` is true (keeping its
    /// place in the listing). Returns why it was refused, changing nothing, or nil when added.
    public func add(_ entry: Entry, replace: Bool) -> String? {
        let name = nameOf(entry)
        // Names are written bare in configs and on command lines.
        if name.isEmpty { return "a \(kind) name must not be empty" }
        if name.contains(where: \.isWhitespace) { return "\(kind) name '\(name)' must not contain spaces" }
        if let c = name.first(where: { reserved.contains($0) }) {
            return "\(kind) name '\(name)' must not contain '\(c)' (configs use it to join names)"
        }
        return lock.withLock {
            if let i = ordered.firstIndex(where: { nameOf($0) == name }) {
                guard replace else {
                    return "a \(kind) named '\(name)' is already registered; pass replace: true to replace it"
                }
                ordered[i] = entry
            } else {
                ordered.append(entry)
            }
            return nil
        }
    }
}
