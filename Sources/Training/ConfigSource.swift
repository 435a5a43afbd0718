import Foundation
import Yams

/// Where a configuration's values came from, so a mistake points at what wrote it: the
/// `--set` that last wrote the key (`--set objectives[0].weight=x: …`), else the file's line
/// (`run.yaml:12: …`), else the file.
struct ConfigSource {
    var name: String
    var text: String?
    var overrides: [(path: ConfigPath, item: String)]

    func locate(_ key: String) -> String {
        guard let path = ConfigPath(parsing: key) else { return name }
        if let o = overrides.last(where: { $0.path.contains(path) }) { return "--set \(o.item)" }
        // Composed only when a message needs a line: parsing already succeeded once.
        if let text, let node = try? Yams.compose(yaml: ExperimentConfig.withoutByteOrderMark(text)), let line = path.line(in: node) {
            return "\(name):\(line)"
        }
        return name
    }
}
