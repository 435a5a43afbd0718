import NeuralNet

/// A name that stands for several objectives in a configuration, e.g. `hadwiger`: the primary
/// loss plus the three Hadwiger priors, ready for a balancer. `ObjectiveRegistry.expand` turns
/// `{name, options}` into its members (each an ordinary registered objective with its options), so
/// trainers, balancers and saved configurations only ever see plain objectives.
public struct ObjectiveGroup: Sendable {
    public struct Member: Sendable, Equatable {
        public let name: String
        public let options: [String: OptionValue]
        public init(name: String, options: [String: OptionValue] = [:]) {
            self.name = name
            self.options = options
        }
    }

    public let name: String
    public let summary: String
    /// Reads the group's options (every key it supports) and returns its members, primary first.
    let expand: @Sendable (ObjectiveOptions) throws -> [Member]

    public init(name: String, summary: String, expand: @escaping @Sendable (ObjectiveOptions) throws -> [Member]) {
        self.name = name
        self.summary = summary
        self.expand = expand
    }
}
