import Torch

/// A model's named outputs: `segmentation`, `heatmaps`, `foreground`/`background`/`uncertainty`, …
///
/// Each head holds its full-resolution tensor first, then any deep-supervision levels (lower
/// resolutions, highest first). Objectives name the head they read; prediction names the head
/// it writes. It lives in NeuralNet so that Models (which produce heads) and Objectives (which
/// read them) share it without depending on each other.
public struct Heads {
    public static let segmentation = "segmentation"
    public static let heatmaps = "heatmaps"
    /// ConDSeg's decoupled maps (§4.3): foreground, background and uncertainty logits.
    public static let foreground = "foreground"
    public static let background = "background"
    public static let uncertainty = "uncertainty"

    private var storage: [String: [Tensor]] = [:]
    /// Head names in the order the model declared them.
    public private(set) var names: [String] = []

    public init() {}

    /// One head with its levels (full resolution first).
    public init(_ name: String, levels: [Tensor]) {
        set(name, levels: levels)
    }

    public mutating func set(_ name: String, levels: [Tensor]) {
        if storage[name] == nil { names.append(name) }
        storage[name] = levels
    }

    public mutating func set(_ name: String, _ tensor: Tensor) { set(name, levels: [tensor]) }

    /// The full-resolution tensor of a head, or nil.
    public subscript(_ name: String) -> Tensor? { storage[name]?.first }

    /// Every level of a head (full resolution first); empty when the model has no such head.
    public func levels(_ name: String) -> [Tensor] { storage[name] ?? [] }

    /// The full-resolution tensor; a clear error when the head is missing.
    public func require(_ name: String, by user: String) throws -> Tensor {
        guard let t = self[name] else {
            throw NeuralNetError("\(user) reads head '\(name)', which the model does not produce (heads: \(names.joined(separator: ", ")))")
        }
        return t
    }

    /// Every tensor converted (e.g. to float32 after a bfloat16 autocast forward).
    public func map(_ transform: (Tensor) throws -> Tensor) rethrows -> Heads {
        var out = Heads()
        for n in names { out.set(n, levels: try storage[n]!.map(transform)) }
        return out
    }
}

/// What kind of values a head carries, so prediction and evaluation know what to do with it.
public enum HeadKind: String, Sendable, Equatable {
    /// Class logits (softmax over channels, or a sigmoid channel): argmax → label map.
    case segmentation
    /// One heatmap per landmark: argmax (or refinement) → coordinates.
    case heatmap
    /// Any other map (a foreground/background/uncertainty map, features).
    case map
}

/// A head a model declares: its name, channel count and kind.
public struct HeadSpec: Sendable, Equatable {
    public var name: String
    public var channels: Int
    public var kind: HeadKind
    public init(name: String, channels: Int, kind: HeadKind) {
        self.name = name
        self.channels = channels
        self.kind = kind
    }
}
