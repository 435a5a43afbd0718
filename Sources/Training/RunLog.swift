import Foundation
import Torch

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
    /// The balancer's mean weight per objective over the epoch, when it has weights (caob, …).
    public var balancerWeights: [String: Double]?
    /// The share of the epoch's training-step time spent waiting for the data loader's next batch.
    public var dataWait: Double?

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
        case balancerWeights = "balancer_weights"
        case dataWait = "data_wait"
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        epoch = try c.decode(Int.self, forKey: .epoch)
        trainLoss = try c.decode(LogNumber.self, forKey: .trainLoss).value
        objectives = try c.decode([String: LogNumber].self, forKey: .objectives).mapValues(\.value)
        learningRate = try c.decode(LogNumber.self, forKey: .learningRate).value
        seconds = try c.decode(LogNumber.self, forKey: .seconds).value
        skippedSteps = try c.decode(Int.self, forKey: .skippedSteps)
        validation = try c.decodeIfPresent([String: LogNumber].self, forKey: .validation)?.mapValues(\.value)
        stage = try c.decodeIfPresent(String.self, forKey: .stage)
        balancerWeights = try c.decodeIfPresent([String: LogNumber].self, forKey: .balancerWeights)?.mapValues(\.value)
        dataWait = try c.decodeIfPresent(LogNumber.self, forKey: .dataWait)?.value
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(epoch, forKey: .epoch)
        try c.encode(LogNumber(trainLoss), forKey: .trainLoss)
        try c.encode(objectives.mapValues(LogNumber.init), forKey: .objectives)
        try c.encode(LogNumber(learningRate), forKey: .learningRate)
        try c.encode(LogNumber(seconds), forKey: .seconds)
        try c.encode(skippedSteps, forKey: .skippedSteps)
        try c.encodeIfPresent(validation?.mapValues(LogNumber.init), forKey: .validation)
        try c.encodeIfPresent(stage, forKey: .stage)
        try c.encodeIfPresent(balancerWeights?.mapValues(LogNumber.init), forKey: .balancerWeights)
        try c.encodeIfPresent(dataWait.map(LogNumber.init), forKey: .dataWait)
    }
}

/// A number in `log.jsonl`: finite values as JSON numbers, ±infinity as the strings "inf" and
/// "-inf", NaN as `null` (what `json.loads`, pandas and jq all read). Logs written before this
/// convention spelled NaN "nan"; reading accepts that too.
struct LogNumber: Codable {
    var value: Double
    init(_ value: Double) { self.value = value }

    init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { value = .nan; return }
        if let v = try? c.decode(Double.self) { value = v; return }
        switch try c.decode(String.self) {
        case "inf", "Infinity": value = .infinity
        case "-inf", "-Infinity": value = -.infinity
        case "nan", "NaN": value = .nan
        case let other:
            throw DecodingError.dataCorruptedError(in: c, debugDescription: "expected a number, \"inf\", \"-inf\" or null, found \"\(other)\"")
        }
    }

    func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        if value.isNaN { try c.encodeNil() } else if value.isInfinite { try c.encode(value > 0 ? "inf" : "-inf") } else { try c.encode(value) }
    }
}

/// Appends epoch records to `log.jsonl` (one JSON object per line) and reads them back.
public struct RunLog {
    public let path: String

    public func append(_ record: EpochRecord) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        var line = try encoder.encode(record)
        line.append(0x0A)
        do {
            if !FileManager.default.fileExists(atPath: path) { FileManager.default.createFile(atPath: path, contents: nil) }
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
            defer { try? handle.close() }
            try handle.seekToEnd()
            try handle.write(contentsOf: line)
            try handle.synchronize()
        } catch {
            throw TrainingError("cannot append to \(path): \(error)")
        }
    }

    public func read() throws -> [EpochRecord] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return [] }
        let decoder = JSONDecoder()
        return try text.split(separator: "\n").enumerated().map { index, line in
            do {
                return try decoder.decode(EpochRecord.self, from: Data(line.utf8))
            } catch {
                throw TrainingError("\(path):\(index + 1): not an epoch record of log.jsonl (\(Self.reason(error)))")
            }
        }
    }

    /// A decoding error in a few words: the key and what was wrong.
    static func reason(_ error: Error) -> String {
        switch error as? DecodingError {
        case .keyNotFound(let key, _): return "missing key \"\(key.stringValue)\""
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context):
            let key = context.codingPath.map(\.stringValue).joined(separator: ".")
            return (key.isEmpty ? "" : "\(key): ") + (context.underlyingError.map { _ in "not valid JSON" } ?? context.debugDescription)
        default: return "\(error)"
        }
    }

    /// Keeps the first `epochs` records (a resumed run rewrites the epochs after its checkpoint).
    public func truncate(toEpochs epochs: Int) throws {
        let kept = try read().filter { $0.epoch <= epochs }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        var bytes: [UInt8] = []
        for r in kept { bytes += try encoder.encode(r) + [0x0A] }
        // One atomic replace: a failure leaves the old log, never a shortened one.
        try AtomicFile.write(bytes, to: path)
    }
}
