import NeuralNet

/// Which segmentation classes each landmark lies on the boundary of (BaBLoss's relation table R):
/// landmark → class indices. Keys are landmark names (resolved against the dataset's landmark
/// list) or indices ("0", "1", …); `resolve` checks both sides and names what does not exist.
public struct LandmarkRelations: Sendable, Equatable {
    /// As written: landmark name or index → classes, in key order.
    public var entries: [(landmark: String, classes: [Int])]

    public init(_ entries: [(landmark: String, classes: [Int])]) { self.entries = entries }

    public init(_ table: [String: [Int]]) { entries = table.keys.sorted().map { ($0, table[$0]!) } }

    public static func == (a: Self, b: Self) -> Bool {
        a.entries.map(\.landmark) == b.entries.map(\.landmark) && a.entries.map(\.classes) == b.entries.map(\.classes)
    }

    public var isEmpty: Bool { entries.isEmpty }

    /// An option value `{"nasion": [1, 5], "3": 2}` (a single class may stand for a list of one).
    public init(option value: ConfigValue, subject: String) throws {
        guard case .object(let o) = value else {
            throw ObjectiveError("\(subject) must be an object {landmark: [classes]}, e.g. {\"0\": [1, 5]}, got \(value)")
        }
        var out: [(String, [Int])] = []
        for key in o.keys.sorted() {
            let items: [ConfigValue]
            switch o[key]! {
            case .array(let a): items = a
            case let v: items = [v]
            }
            var classes: [Int] = []
            for item in items {
                guard case .number(let x) = item, x.rounded() == x, x >= 0, x < 1e9 else {
                    throw ObjectiveError("\(subject)[\"\(key)\"] must list class indices (integers ≥ 0), got \(o[key]!)")
                }
                classes.append(Int(x))
            }
            out.append((key, classes))
        }
        entries = out
    }

    /// Per landmark index (0..<landmarks), the related classes (empty: none). Keys that are not
    /// an index must name one of `landmarkNames`; classes must be < `classes`.
    public func resolve(landmarkNames: [String], landmarks: Int, classes: Int, source: String = "relations") throws -> [[Int]] {
        var table = [[Int]](repeating: [], count: landmarks)
        for (key, cs) in entries {
            let index: Int
            if let i = landmarkNames.firstIndex(of: key) {
                index = i
            } else if let i = Int(key) {
                guard (0..<landmarks).contains(i) else {
                    throw ObjectiveError("\(source): landmark index \(i) does not exist (there are \(landmarks) landmark channels)")
                }
                index = i
            } else {
                let known = landmarkNames.isEmpty ? "the data names no landmarks; use indices \"0\"…" : "landmarks: \(landmarkNames.joined(separator: ", "))"
                throw ObjectiveError("\(source): landmark '\(key)' does not exist (\(known))")
            }
            for c in cs where c >= classes {
                throw ObjectiveError("\(source): landmark '\(key)' relates to class \(c), which does not exist (the segmentation has \(classes) classes, 0…\(classes - 1))")
            }
            for c in cs where !table[index].contains(c) { table[index].append(c) }
        }
        return table
    }
}
