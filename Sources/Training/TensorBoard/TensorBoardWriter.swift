import Foundation
import SwiftProtobuf

/// Writes a TensorBoard event file (`FOLDER/events.out.tfevents.<seconds>.<host>`) so that
/// `tensorboard --logdir runs` shows every run: scalars per step and per epoch, the report's
/// overlays at the end. Each event is one `write(2)`, so a crash loses at most the event being
/// written and TensorBoard can read the file while training runs.
public final class TensorBoardWriter: TrainingObserver {
    public let folder: String
    /// The event file, once the first event opened it.
    public private(set) var path: String?
    private var fd: Int32 = -1
    private var lastStep = 0
    private let clock: () -> Date

    public init(folder: String, clock: @escaping () -> Date = Date.init) {
        self.folder = folder
        self.clock = clock
    }

    deinit { close() }

    public func close() {
        if fd >= 0 { _ = Foundation.close(fd); fd = -1 }
    }

    // MARK: Events

    /// Scalars in one event; TensorBoard stores them as 32-bit floats.
    public func scalars(_ values: [(tag: String, value: Double)], step: Int) throws {
        guard !values.isEmpty else { return }
        var summary = TBSummary()
        summary.value = values.map { v in
            var x = TBSummary.Value()
            x.tag = v.tag
            x.simpleValue = Float(v.value)
            return x
        }
        var e = event(step: step)
        e.summary = summary
        try write(e)
    }

    /// A PNG image (`colorspace` 1 grey, 3 RGB, 4 RGBA).
    public func image(_ tag: String, png: [UInt8], width: Int, height: Int, colorspace: Int = 3, step: Int) throws {
        var image = TBSummary.Image()
        image.width = Int32(width)
        image.height = Int32(height)
        image.colorspace = Int32(colorspace)
        image.encodedImageString = Data(png)
        var value = TBSummary.Value()
        value.tag = tag
        value.image = image
        var e = event(step: step)
        e.summary.value = [value]
        try write(e)
    }

    /// Marks a restart at `step`: TensorBoard drops what this folder's earlier files hold at `step`
    /// and after it (the steps a resumed run repeats).
    public func sessionStart(step: Int) throws {
        var log = TBSessionLog()
        log.status = .start
        var e = event(step: step)
        e.sessionLog = log
        try write(e)
    }

    // MARK: TrainingObserver

    public func trainingWillStart(step: Int, resumed: Bool) throws {
        lastStep = step
        // Steps are counted after the update, so the first repeated one is step + 1.
        if resumed { try sessionStart(step: step + 1) }
    }

    public func stepDidEnd(step: Int, total: Double, losses: [String: Double], weights: [String: Double], learningRate: Double) throws {
        lastStep = step
        var values: [(tag: String, value: Double)] = [("step/loss", total), ("step/learning_rate", learningRate)]
        values += losses.sorted { $0.key < $1.key }.map { ("step/loss/\($0.key)", $0.value) }
        values += weights.sorted { $0.key < $1.key }.map { ("step/balancer_weight/\($0.key)", $0.value) }
        try scalars(values, step: step)
    }

    public func epochDidEnd(step: Int, record: EpochRecord) throws {
        lastStep = step
        var values: [(tag: String, value: Double)] = [("epoch/loss", record.trainLoss), ("epoch/learning_rate", record.learningRate),
                                                      ("epoch/epoch", Double(record.epoch)), ("epoch/seconds", record.seconds)]
        values += record.objectives.sorted { $0.key < $1.key }.map { ("epoch/loss/\($0.key)", $0.value) }
        values += (record.validation ?? [:]).sorted { $0.key < $1.key }.map { ("val/\($0.key)", $0.value) }
        try scalars(values, step: step)
    }

    public func trainingDidEnd(overlays: [RunReport.Overlay]) throws {
        for o in overlays {
            let png = try RunReport.overlayPNG(o)
            let (h, w) = o.image.rank == 3 ? (o.image.shape[1], o.image.shape[2]) : (o.image.shape[0], o.image.shape[1])
            try image("overlay/\(o.caseID)", png: png, width: w, height: h, step: lastStep)
        }
    }

    // MARK: File

    private func event(step: Int) -> TBEvent {
        var e = TBEvent()
        e.wallTime = clock().timeIntervalSince1970
        e.step = Int64(step)
        return e
    }

    private func write(_ e: TBEvent) throws {
        try open()
        let record = TFRecord.frame(Array(try e.serializedData()))
        let written = record.withUnsafeBytes { Foundation.write(fd, $0.baseAddress, $0.count) }
        guard written == record.count else {
            throw TrainingError("\(path ?? folder): cannot write a TensorBoard event: \(String(cString: strerror(errno)))")
        }
    }

    /// Opens a new file on first use, so a run that writes nothing leaves no empty file.
    private func open() throws {
        guard fd < 0 else { return }
        do { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) } catch {
            throw TrainingError("\(folder): cannot create the TensorBoard folder: \(error.localizedDescription)")
        }
        let base = "\(folder)/events.out.tfevents.\(Int(clock().timeIntervalSince1970)).\(ProcessInfo.processInfo.hostName)"
        // A second writer in the same second (a quick resume) gets its own file, never appends to another's.
        var candidate = base, n = 0
        while true {
            fd = Foundation.open(candidate, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0o644)
            if fd >= 0 || errno != EEXIST { break }
            n += 1
            candidate = "\(base).\(n)"
        }
        guard fd >= 0 else { throw TrainingError("\(candidate): cannot create the TensorBoard event file: \(String(cString: strerror(errno)))") }
        path = candidate
        var first = event(step: 0)
        first.fileVersion = "brain.Event:2"
        try write(first)
    }
}
