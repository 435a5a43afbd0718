import NeuralNet

/// How a step that runs the model twice (a batch and its strong augmentation, ConDSeg's CR)
/// hands both forwards to objectives: the second forward's heads are added under
/// `strong.<name>` beside the first's.
public enum ConsistencyPair {
    public static let prefix = "strong."

    public static func strongHead(_ name: String) -> String { prefix + name }

    /// `first`'s heads, plus `second`'s under `strong.<name>`.
    public static func merge(_ first: Heads, _ second: Heads) -> Heads {
        var out = first
        for n in second.names { out.set(strongHead(n), levels: second.levels(n)) }
        return out
    }
}
