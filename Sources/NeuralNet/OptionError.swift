/// A mistake in a configured option: which key (its full path when the options know where they
/// sit, `data.batchSize`) and a message naming the key, what was expected and what was given.
/// The key lets a configuration point at the line or `--set` that wrote it.
public struct OptionError: Error, CustomStringConvertible, Equatable {
    public var key: String
    public var description: String
    public init(key: String, _ description: String) {
        self.key = key
        self.description = description
    }
}
