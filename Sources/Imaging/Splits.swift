import Geometry
import FoundationEssentials

/// Train/validation splits: k-fold by seed, or nnU-Net's `splits_final.json` format
/// (`[{"train": [...], "val": [...]}, …]`).
public struct Split: Codable, Sendable, Equatable {
    public var train: [String]
    public var val: [String]
    public init(train: [String], val: [String]) {
        self.train = train
        self.val = val
    }
}

public enum Splits {
    /// Shuffles the sorted ids with `seed` (SplitMix64 + Fisher–Yates) and deals them into `folds`
    /// nearly equal validation sets; the same ids and seed always give the same folds.
    public static func kFold(_ ids: [String], folds: Int = 5, seed: UInt64 = 12345) throws -> [Split] {
        guard folds >= 2 else { throw ImagingError("folds must be ≥ 2, got \(folds)") }
        guard ids.count >= folds else { throw ImagingError("\(ids.count) cases cannot make \(folds) folds") }
        var order = ids.sorted()
        var rng = SeededGenerator(seed: seed)
        order.shuffle(using: &rng)
        return (0..<folds).map { k in
            let val = order.enumerated().filter { $0.offset % folds == k }.map(\.element).sorted()
            let valSet = Set(val)
            return Split(train: order.filter { !valSet.contains($0) }.sorted(), val: val)
        }
    }

    public static func read(path: String) throws -> [Split] {
        let json = try JSONDocument.read(path: path)
        let format = "[{\"train\": [case, …], \"val\": [case, …]}, …] (nnU-Net's splits_final.json)"
        guard let folds = json.elements else { throw JSONDocument.error(path, at: json, "expected a list of folds \(format), found \(json.found)") }
        return try folds.enumerated().map { k, fold in
            guard fold.members != nil else { throw JSONDocument.error(path, at: fold, "fold \(k): expected {\"train\": [...], \"val\": [...]}, found \(fold.found)") }
            func ids(_ key: String) throws -> [String] {
                guard let value = fold[key] else { throw JSONDocument.error(path, at: fold, "fold \(k): missing key \"\(key)\" (each fold is {\"train\": [...], \"val\": [...]})") }
                guard let list = value.elements, let names = Optional(list.compactMap(\.string)), names.count == list.count else {
                    throw JSONDocument.error(path, at: value, "fold \(k) \(key): expected a list of case ids, found \(value.found)")
                }
                for name in names { try SafeName.check(name, "case identifier", in: "\(path): fold \(k) \(key)") }
                return names
            }
            return Split(train: try ids("train"), val: try ids("val"))
        }
    }

    public static func write(_ splits: [Split], path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted]
        try FileSystem.writeAtomically(Array(try encoder.encode(splits)), to: path)
    }
}
