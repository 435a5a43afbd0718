import Foundation
import XCTest
import Imaging
import Objectives
import Torch
@testable import Training

/// TensorBoard event files: CRC-32C, TFRecord framing, the messages, and what a run writes.
/// The reader below is checked against a file TensorBoard's own writer produced
/// (scripts/fixtures/make_tensorboard_fixture.py) before it is used on Contour's files.
final class TensorBoardTests: XCTestCase {
    var dir: String!

    override func setUpWithError() throws {
        dir = NSTemporaryDirectory() + "contour-tensorboard-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: dir) }

    static let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("scripts/fixtures/tensorboard/events.out.tfevents.fixture").path

    struct ReadError: Error, CustomStringConvertible { var description: String }

    /// Splits a TFRecord file into records, checking both masked CRCs of each.
    static func records(_ bytes: [UInt8]) throws -> [[UInt8]] {
        func u64(_ i: Int) -> UInt64 { (0..<8).reduce(0) { $0 | UInt64(bytes[i + $1]) << ($1 * 8) } }
        func u32(_ i: Int) -> UInt32 { (0..<4).reduce(0) { $0 | UInt32(bytes[i + $1]) << ($1 * 8) } }
        var out: [[UInt8]] = [], i = 0
        while i < bytes.count {
            guard i + 12 <= bytes.count else { throw ReadError(description: "truncated header at byte \(i)") }
            let n = Int(u64(i))
            guard CRC32C.masked(bytes[i..<i + 8]) == u32(i + 8) else { throw ReadError(description: "length CRC mismatch at byte \(i)") }
            guard i + 12 + n + 4 <= bytes.count else { throw ReadError(description: "truncated record at byte \(i)") }
            let data = Array(bytes[i + 12..<i + 12 + n])
            guard CRC32C.masked(data) == u32(i + 12 + n) else { throw ReadError(description: "data CRC mismatch at byte \(i)") }
            out.append(data)
            i += 12 + n + 4
        }
        return out
    }

    static func events(_ path: String) throws -> [TBEvent] {
        try records(Array(try Data(contentsOf: URL(fileURLWithPath: path)))).map { try TBEvent(serializedBytes: $0) }
    }

    static func scalars(_ events: [TBEvent], _ tag: String) -> [(step: Int64, value: Float)] {
        events.flatMap { e in
            e.summary.value.compactMap { v -> (Int64, Float)? in
                guard v.tag == tag, case .simpleValue(let x) = v.value else { return nil }
                return (e.step, x)
            }
        }
    }

    static func images(_ events: [TBEvent]) -> [(step: Int64, tag: String, image: TBSummary.Image)] {
        events.flatMap { e in
            e.summary.value.compactMap { v -> (Int64, String, TBSummary.Image)? in
                guard case .image(let x) = v.value else { return nil }
                return (e.step, v.tag, x)
            }
        }
    }

    static let pngSignature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]

    // MARK: Encoding

    func testCRC32CMatchesTheStandardCheckValue() {
        XCTAssertEqual(CRC32C.checksum(Array("123456789".utf8)), 0xE306_9283)
        XCTAssertEqual(CRC32C.checksum([UInt8]()), 0)
        // 32 zero bytes: the iSCSI test vector (RFC 3720 B.4).
        XCTAssertEqual(CRC32C.checksum([UInt8](repeating: 0, count: 32)), 0x8A91_36AA)
        // Masking rotates right by 15 and adds 0xa282ead8.
        let crc = CRC32C.checksum(Array("123456789".utf8))
        XCTAssertEqual(CRC32C.masked(Array("123456789".utf8)), ((crc >> 15) | (crc << 17)) &+ 0xA282_EAD8)
        XCTAssertEqual(CRC32C.masked([UInt8]()), 0xA282_EAD8)
    }

    func testReaderAgreesWithTensorBoardsOwnWriter() throws {
        let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: Self.fixture)))
        let records = try Self.records(bytes)
        XCTAssertEqual(records.count, 5)
        let events = try records.map { try TBEvent(serializedBytes: $0) }
        XCTAssertEqual(events[0].fileVersion, "brain.Event:2")
        XCTAssertEqual(events[1].step, 3)
        XCTAssertEqual(events[1].wallTime, 1_700_000_000.5)
        XCTAssertEqual(Self.scalars(events, "step/loss").map(\.value), [0.5])
        XCTAssertEqual(Self.scalars(events, "step/learning_rate").map(\.value), [0.01])
        XCTAssertEqual(events[2].step, 5)
        XCTAssertEqual(events[2].sessionLog.status, .start)
        let images = Self.images(events)
        XCTAssertEqual(images.map(\.tag), ["overlay/case_1"])
        XCTAssertEqual(images.map(\.step), [7])
        let image = try XCTUnwrap(images.first?.image)
        XCTAssertEqual([image.width, image.height, image.colorspace], [2, 3, 3])
        XCTAssertEqual(Array(image.encodedImageString.prefix(8)), Self.pngSignature)
        XCTAssertEqual(Self.scalars(events, "val/dice").map(\.step), [7])
        XCTAssertEqual(Self.scalars(events, "val/dice").map(\.value), [0.875])

        // Contour encodes and frames the same scalar event to the same bytes.
        let writer = TensorBoardWriter(folder: "\(dir!)/same", clock: { Date(timeIntervalSince1970: 1_700_000_000.5) })
        try writer.scalars([("step/loss", 0.5), ("step/learning_rate", 0.01)], step: 3)
        writer.close()
        let ours = try Self.records(Array(try Data(contentsOf: URL(fileURLWithPath: try XCTUnwrap(writer.path)))))
        XCTAssertEqual(ours.count, 2)
        XCTAssertEqual(ours[1], records[1])
        XCTAssertEqual(TFRecord.frame(records[1]), Array(bytes[(records[0].count + 16)..<(records[0].count + 16 + records[1].count + 16)]))
    }

    func testReaderRejectsACorruptedRecord() throws {
        var bytes = Array(try Data(contentsOf: URL(fileURLWithPath: Self.fixture)))
        bytes[bytes.count - 10] ^= 0x01
        XCTAssertThrowsError(try Self.records(bytes)) { XCTAssertTrue("\($0)".contains("data CRC mismatch"), "\($0)") }
        bytes = Array(try Data(contentsOf: URL(fileURLWithPath: Self.fixture)))
        bytes[0] ^= 0x01
        XCTAssertThrowsError(try Self.records(bytes)) { XCTAssertTrue("\($0)".contains("length CRC mismatch"), "\($0)") }
    }

    func testWriterNamesTheFileAndNeverAppendsToAnother() throws {
        let clock = { Date(timeIntervalSince1970: 1_234_567_890) }
        let a = TensorBoardWriter(folder: "\(dir!)/tb", clock: clock), b = TensorBoardWriter(folder: "\(dir!)/tb", clock: clock)
        XCTAssertNil(a.path, "no file before the first event")
        try a.scalars([("x", 1)], step: 1)
        try b.scalars([("x", 2)], step: 2)
        let host = ProcessInfo.processInfo.hostName
        XCTAssertEqual(a.path, "\(dir!)/tb/events.out.tfevents.1234567890.\(host)")
        XCTAssertEqual(b.path, "\(dir!)/tb/events.out.tfevents.1234567890.\(host).1")
        XCTAssertEqual(Self.scalars(try Self.events(a.path!), "x").map(\.value), [1])
        XCTAssertEqual(Self.scalars(try Self.events(b.path!), "x").map(\.value), [2])
    }

    // MARK: Runs

    func config(_ extra: String, output: String, top: String = "") throws -> ExperimentConfig {
        let data = "\(dir!)/data"
        if !FileManager.default.fileExists(atPath: "\(data)/dataset.json") {
            try DemoData.write(kind: .tubular, to: data, trainCount: 6, testCount: 0, seed: 3)
        }
        return try ExperimentConfig.load(yaml: """
        data: {dataset: \(data), patchSize: [32, 32], batchSize: 2, workers: 1, preset: none}
        model: {name: unet2d, options: {stages: 3, baseWidth: 4}}
        optimizer: {name: adam, learningRate: 0.01, weightDecay: 0}
        run: {epochs: 2, iterationsPerEpoch: 2, validationInterval: 1, seed: 5, threads: 1, output: \(output)\(extra)}
        \(top)
        """, name: "test")
    }

    func testARunWritesStepEpochAndImageEventsBesideItsLog() throws {
        let run = "\(dir!)/run"
        var config = try config("", output: run)
        config.objectives = [.init(name: "ce"), .init(name: "dice")]
        XCTAssertTrue(config.run.tensorboard, "on by default")
        _ = try Trainer(config: config, quiet: true).train()
        let files = try FileManager.default.contentsOfDirectory(atPath: "\(run)/tensorboard")
        XCTAssertEqual(files.count, 1)
        XCTAssertTrue(files[0].hasPrefix("events.out.tfevents."), files[0])
        let events = try Self.events("\(run)/tensorboard/\(files[0])")
        XCTAssertEqual(events.first?.fileVersion, "brain.Event:2")
        let log = try RunLog(path: "\(run)/log.jsonl").read()
        XCTAssertEqual(log.count, 2)
        // Per step: total, each objective and the learning rate at steps 1…4.
        XCTAssertEqual(Self.scalars(events, "step/loss").map(\.step), [1, 2, 3, 4])
        for tag in ["step/loss/ce", "step/loss/dice", "step/learning_rate"] {
            XCTAssertEqual(Self.scalars(events, tag).map(\.step), [1, 2, 3, 4], tag)
        }
        XCTAssertTrue(Self.scalars(events, "step/balancer_weight/ce").isEmpty, "sum has no weights to log")
        // Per epoch, at the epoch's last step: the log's values (as 32-bit floats).
        XCTAssertEqual(Self.scalars(events, "epoch/loss").map(\.step), [2, 4])
        XCTAssertEqual(Self.scalars(events, "epoch/loss").map(\.value), log.map { Float($0.trainLoss) })
        XCTAssertEqual(Self.scalars(events, "epoch/loss/dice").map(\.value), log.map { Float($0.objectives["dice"]!) })
        XCTAssertEqual(Self.scalars(events, "epoch/learning_rate").map(\.value), log.map { Float($0.learningRate) })
        XCTAssertEqual(Self.scalars(events, "val/dice").map(\.value), log.map { Float($0.validation!["dice"]!) })
        XCTAssertEqual(Self.scalars(events, "val/hd95").count, 2)
        // The report's overlays, PNG-encoded, at the last step.
        let images = Self.images(events)
        XCTAssertFalse(images.isEmpty)
        for (step, tag, image) in images {
            XCTAssertEqual(step, 4)
            XCTAssertTrue(tag.hasPrefix("overlay/"), tag)
            XCTAssertEqual(Array(image.encodedImageString.prefix(8)), Self.pngSignature)
            // The whole validation case (not a patch), RGB, with the size the header states.
            let source = try PNGFile.readImage(path: "\(dir!)/data/imagesTr/\(tag.dropFirst("overlay/".count))_0000.png")
            try image.encodedImageString.write(to: URL(fileURLWithPath: "\(dir!)/overlay.png"))
            let decoded = try PNGFile.readImage(path: "\(dir!)/overlay.png")
            XCTAssertEqual(decoded.channels.count, 3)
            XCTAssertEqual(decoded.channels[0].shape, source.channels[0].shape)
            XCTAssertEqual([Int(image.height), Int(image.width), Int(image.colorspace)], source.channels[0].shape + [3], tag)
        }
    }

    func testStepsContinueAcrossStagesAndAResumeMarksWhereItRestarted() throws {
        let run = "\(dir!)/staged"
        let config = try config("", output: run, top: """
        stages:
          - {name: pre, objectives: [ce], run: {epochs: 1}}
          - {name: fine, objectives: [cedice], run: {epochs: 2}}
        """)
        _ = try Trainer(config: config, quiet: true).train(untilEpoch: 2)
        _ = try Trainer(config: config, quiet: true).train(resume: true)
        let files = try FileManager.default.contentsOfDirectory(atPath: "\(run)/tensorboard").sorted()
        XCTAssertEqual(files.count, 2, "\(files)")
        let first = try Self.events("\(run)/tensorboard/\(files[0])"), second = try Self.events("\(run)/tensorboard/\(files[1])")
        // Stage 2 continues the x axis of stage 1 (2 iterations per epoch).
        XCTAssertEqual(Self.scalars(first, "step/loss").map(\.step), [1, 2, 3, 4])
        XCTAssertEqual(Self.scalars(first, "step/loss/ce").map(\.step), [1, 2])
        XCTAssertEqual(Self.scalars(first, "step/loss/cedice").map(\.step), [3, 4])
        XCTAssertEqual(Self.scalars(first, "epoch/loss").map(\.step), [2, 4])
        // The resumed run marks the first step it repeats (TensorBoard drops older events from there), then goes on.
        XCTAssertEqual(second.filter { $0.sessionLog.status == .start }.map(\.step), [5])
        XCTAssertFalse(first.contains { $0.sessionLog.status == .start })
        XCTAssertEqual(Self.scalars(second, "step/loss").map(\.step), [5, 6])
        XCTAssertEqual(Self.scalars(second, "epoch/loss").map(\.step), [6])
    }

    func testTheConfigKeyTurnsItOffAndRoundTrips() throws {
        let run = "\(dir!)/off"
        let config = try config(", tensorboard: false", output: run)
        XCTAssertFalse(config.run.tensorboard)
        XCTAssertTrue(try config.yaml().contains("tensorboard: false"))
        XCTAssertEqual(try ExperimentConfig.load(yaml: try config.yaml(), name: "saved").run.tensorboard, false)
        let trainer = try Trainer(config: config, quiet: true)
        XCTAssertTrue(trainer.observers.isEmpty)
        _ = try trainer.train()
        XCTAssertFalse(FileManager.default.fileExists(atPath: "\(run)/tensorboard"))
        XCTAssertThrowsError(try self.config(", tensorboard: maybe", output: run)) { XCTAssertTrue("\($0)".contains("tensorboard"), "\($0)") }
    }

    func testBalancerWeightsAreLoggedPerObjective() throws {
        // A balancer with weights (as CAOB or Nash-MTL have): α = (0.75, 0.25) each step.
        final class FixedWeights: Balancer {
            var name: String { "test-fixed" }
            var needsGradients: Bool { true }
            var lastWeights: [Double]? { [0.75, 0.25] }
            func combine(_ gradients: [Tensor], losses: [Double]) throws -> Tensor {
                try (gradients[0] * 0.75).adding(gradients[1] * 0.25)
            }
        }
        try BalancerRegistry.register(name: "test-fixed", summary: "fixed weights", replace: true) { o in try o.finish(); return FixedWeights() }
        let run = "\(dir!)/weights"
        var config = try config("", output: run)
        config.objectives = [.init(name: "ce"), .init(name: "dice")]
        config.balancer = .init(name: "test-fixed")
        _ = try Trainer(config: config, quiet: true).train()
        let file = try XCTUnwrap(try FileManager.default.contentsOfDirectory(atPath: "\(run)/tensorboard").first)
        let events = try Self.events("\(run)/tensorboard/\(file)")
        XCTAssertEqual(Self.scalars(events, "step/balancer_weight/ce").map(\.value), [0.75, 0.75, 0.75, 0.75])
        XCTAssertEqual(Self.scalars(events, "step/balancer_weight/dice").map(\.step), [1, 2, 3, 4])
        // Epoch means in log.jsonl, and a weight chart in the report.
        let log = try RunLog(path: "\(run)/log.jsonl").read()
        XCTAssertEqual(log.map { $0.balancerWeights ?? [:] }, [["ce": 0.75, "dice": 0.25], ["ce": 0.75, "dice": 0.25]])
        XCTAssertTrue(try String(contentsOfFile: "\(run)/report.html", encoding: .utf8).contains("balancer weights"))
    }
}
