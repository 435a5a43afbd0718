internal import CYaml

/// Bounds checked on libyaml's event stream (iterative) before Yams builds the tree: Yams builds it
/// recursively and expands every alias, so a file nested 10⁵ deep overflows the stack and a
/// "billion laughs" file of aliases fills memory.
enum YAMLBounds {
    static let maximumDepth = 256
    /// Nodes after expanding aliases; a configuration has a few hundred.
    static let maximumNodes = 1_000_000

    /// Throws when `text` nests deeper than `maximumDepth` or expands to more than `maximumNodes`;
    /// syntax errors are left to Yams, which reports them with more context.
    static func check(_ text: String, name: String) throws {
        guard !text.isEmpty else { return }
        var parser = yaml_parser_t()
        guard yaml_parser_initialize(&parser) == 1 else { return }
        defer { yaml_parser_delete(&parser) }
        // Set as Yams sets it. Left to detect it, libyaml drops a leading BOM and counts columns
        // from the next character; with it set, the BOM takes column 0. The same text would then
        // nest differently here and in Yams (a key there seen as a value here, so unchecked).
        yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING)
        let bytes = Array(text.utf8)
        // Per open collection: its anchor, its node count, and (mappings) whether the next node is a key.
        var open: [(anchor: String?, nodes: Int, expectsKey: Bool?)] = [(nil, 0, nil)]
        var anchored: [String: Int] = [:]
        func anchorName(_ p: UnsafeMutablePointer<yaml_char_t>?) -> String? { p.map { String(cString: $0) } }
        func add(_ n: Int, line: Int) throws {
            let (sum, overflow) = open[open.count - 1].nodes.addingReportingOverflow(n)
            guard !overflow, sum <= maximumNodes else {
                throw TrainingError("\(name):\(line): the YAML expands (through aliases) to more than \(maximumNodes) values")
            }
            open[open.count - 1].nodes = sum
        }
        /// A node starts: Yams force-unwraps mapping keys as strings, so a key must be a scalar.
        func begin(scalar: Bool, line: Int) throws {
            guard let expectsKey = open[open.count - 1].expectsKey else { return }
            if expectsKey && !scalar {
                throw TrainingError("\(name):\(line): a mapping key must be a plain value, not a list, mapping or alias")
            }
            open[open.count - 1].expectsKey = !expectsKey
        }
        try bytes.withUnsafeBufferPointer { buffer in
            yaml_parser_set_input_string(&parser, buffer.baseAddress, buffer.count)
            while true {
                var event = yaml_event_t()
                guard yaml_parser_parse(&parser, &event) == 1 else { return }
                defer { yaml_event_delete(&event) }
                let line = Int(event.start_mark.line) + 1
                switch event.type {
                case YAML_SEQUENCE_START_EVENT, YAML_MAPPING_START_EVENT:
                    guard open.count <= maximumDepth else { throw TrainingError("\(name):\(line): nested more than \(maximumDepth) levels deep") }
                    let anchor = event.type == YAML_SEQUENCE_START_EVENT ? event.data.sequence_start.anchor : event.data.mapping_start.anchor
                    try begin(scalar: false, line: line)
                    open.append((anchorName(anchor), 1, event.type == YAML_MAPPING_START_EVENT ? true : nil))
                case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT:
                    guard open.count > 1 else { return }
                    let node = open.removeLast()
                    if let a = node.anchor { anchored[a] = node.nodes }
                    try add(node.nodes, line: line)
                case YAML_SCALAR_EVENT:
                    try begin(scalar: true, line: line)
                    if let a = anchorName(event.data.scalar.anchor) { anchored[a] = 1 }
                    try add(1, line: line)
                case YAML_ALIAS_EVENT:
                    try begin(scalar: false, line: line)
                    try add(anchorName(event.data.alias.anchor).flatMap { anchored[$0] } ?? 1, line: line)
                case YAML_STREAM_END_EVENT: return
                default: break
                }
            }
        }
    }
}
