import Geometry

/// Names of foreground labels (from dataset.json or `--labels 1=liver,2=spleen`); a label without
/// one is called "label N", so every table and file can show a name next to the number.
public struct LabelNames: Sendable, Equatable {
    public var names: [Int: String]

    public init(_ names: [Int: String] = [:]) { self.names = names }

    /// From dataset.json's `labels` ({name: value}); background (0) is left out.
    public init(datasetLabels: [String: Int]) {
        var names: [Int: String] = [:]
        for (name, value) in datasetLabels where value != 0 { names[value] = name }
        self.names = names
    }

    public func name(of label: Int) -> String { names[label] ?? "label \(label)" }

    /// Parses `1,2` or `1=liver,2=spleen` (mixed is fine): the labels in order and the names given.
    /// `argument` names the option in errors.
    public static func parse(_ text: String, argument: String = "--labels") throws -> (labels: [Int], names: LabelNames) {
        var labels: [Int] = [], names: [Int: String] = [:]
        for item in text.split(separator: ",", omittingEmptySubsequences: false) {
            let parts = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let number = parts[0].trimmingSpaces
            guard let label = Int(number), label > 0 else {
                throw GeometryError.invalidArgument(
                    "\(argument): expected foreground labels as N or N=name separated by commas (e.g. 1=liver,2=spleen), got '\(item)' in '\(text)'")
            }
            guard !labels.contains(label) else {
                throw GeometryError.invalidArgument("\(argument): label \(label) is listed twice in '\(text)'")
            }
            labels.append(label)
            if parts.count == 2 {
                let name = parts[1].trimmingSpaces
                guard !name.isEmpty else { throw GeometryError.invalidArgument("\(argument): label \(label) has an empty name in '\(text)'") }
                names[label] = name
            }
        }
        return (labels, LabelNames(names))
    }
}

private extension Substring {
    var trimmingSpaces: String {
        String(drop(while: { $0 == " " }).reversed().drop(while: { $0 == " " }).reversed())
    }
}
