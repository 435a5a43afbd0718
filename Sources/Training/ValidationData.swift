import Foundation
import Geometry
import Imaging

/// Where validation reads a case's image, labels and landmarks: the dataset's files, or the preprocessed
/// folder's arrays (`data.preprocessed`, scored at the preprocessed spacing as nnU-Net's online
/// validation). With `keep`, each case is read once per run and reused by every validation.
public final class ValidationData: @unchecked Sendable {
    let preprocessed: PreprocessedDataset?
    let keep: Bool
    private var stored: [String: Evaluation.Loaded] = [:]
    private let lock = NSLock()

    public init(preprocessed: PreprocessedDataset?, keep: Bool) {
        self.preprocessed = preprocessed
        self.keep = keep
    }

    /// Cases read so far and kept.
    public var keptCount: Int {
        lock.lock()
        defer { lock.unlock() }
        return stored.count
    }

    public func load(_ c: Evaluation.Case) throws -> Evaluation.Loaded {
        lock.lock()
        if let hit = stored[c.id] { lock.unlock(); return hit }
        lock.unlock()
        let loaded = try read(c)
        if keep {
            lock.lock()
            stored[c.id] = loaded
            lock.unlock()
        }
        return loaded
    }

    func read(_ c: Evaluation.Case) throws -> Evaluation.Loaded {
        guard let p = preprocessed else { return try Evaluation.Loaded(reading: c) }
        guard let i = p.cases.firstIndex(where: { $0.id == c.id }) else {
            throw TrainingError("\(p.folder): no preprocessed case \(c.id) to validate on")
        }
        let s = try p.whole(i)
        let volume = ImageVolume(channels: s.image, header: ImageHeader(spacing: p.cases[i].spacing), isInteger: false)
        return Evaluation.Loaded(volume: volume, truth: c.labelPath == nil ? nil : s.labels, landmarks: s.landmarks)
    }
}
