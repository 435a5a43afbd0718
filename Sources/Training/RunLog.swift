import Foundation

/// One line of `log.jsonl`: an epoch's losses, learning rate, time and validation metrics.
public struct EpochRecord: Codable, Sendable, Equatable {
    public var epoch: Int
    public var trainLoss: Double
    /// Each objective's mean value over the epoch, by name.
    public var objectives: [String: Double]
    public var learningRate: Double
    public var seconds: Double
    public var skippedSteps: Int
    /// Validation means (dice, hd95, betti0_error, …) when validation ran this epoch.
    public var validation: [String: Double]?
    /// The stage this epoch belongs to (multi-stage runs; epochs are numbered across stages).
    public var stage: String?

    public init(epoch: Int, trainLoss: Double, objectives: [String: Double], learningRate: Double, seconds: Double,
                skippedSteps: Int, validation: [String: Double]? = nil, stage: String? = nil) {
        self.epoch = epoch
        self.trainLoss = trainLoss
        self.objectives = objectives
        self.learningRate = learningRate
        self.seconds = seconds
        self.skippedSteps = skippedSteps
        self.validation = validation
        self.stage = stage
    }

    enum CodingKeys: String, CodingKey {
        case epoch, trainLoss = "train_loss", objectives, learningRate = "lr", seconds, skippedSteps = "skipped_steps", validation, stage
    }
}

/// Appends epoch records to `log.jsonl` (one JSON object per line) and reads them back.
public struct RunLog {
    public let path: String

    public func append(_ record: EpochRecord) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        var line = try encoder.encode(record)
        line.append(0x0A)
        if !FileManager.default.fileExists(atPath: path) { FileManager.default.createFile(atPath: path, contents: nil) }
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        defer { try? handle.close() }
        try handle.seekToEnd()
        try handle.write(contentsOf: line)
    }

    public func read() throws -> [EpochRecord] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return [] }
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return try text.split(separator: "\n").map { try decoder.decode(EpochRecord.self, from: Data($0.utf8)) }
    }

    /// Keeps the first `epochs` records (a resumed run rewrites the epochs after its checkpoint).
    public func truncate(toEpochs epochs: Int) throws {
        let kept = try read().filter { $0.epoch <= epochs }
        try? FileManager.default.removeItem(atPath: path)
        for r in kept { try append(r) }
    }
}
