import Foundation
import Geometry
import Imaging
import Models
import NeuralNet
import Torch

/// A trained model ready for inference: normalises an image as in training, predicts it by
/// sliding window (optionally mirrored) and returns probabilities and a label map.
public struct Predictor {
    public let model: any SegmentationModel
    public let patchSize: [Int]
    public let normalization: Normalization
    public let device: Device
    /// The head predicted (a segmentation head: its argmax is the label map).
    public let head: String

    public init(model: any SegmentationModel, patchSize: [Int], normalization: Normalization, device: Device,
                head: String = Heads.segmentation) {
        self.model = model
        self.head = head
        self.patchSize = patchSize
        self.normalization = normalization
        self.device = device
    }

    /// From a checkpoint folder (`RUN/checkpoints/best`), or a run folder (its best, else latest).
    public static func load(checkpoint path: String, device: Device = .best) throws -> (predictor: Predictor, state: TrainingState) {
        let dir = try resolve(path)
        let state = try CheckpointStore.readState(dir)
        let config = try ExperimentConfig(tree: state.config, name: "\(dir)/state.json", requireDataset: false)
        guard let channels = state.channelNames, let labels = state.labels, let patch = state.patchSize else {
            throw TrainingError("\(dir): checkpoint lacks channel names, labels or patch size")
        }
        let model = try ModelRegistry.make(config.model.name, options: Options(config.model.options, for: config.model.name),
                                           context: ModelContext(inChannels: channels.count, classes: labels.count,
                                                                 landmarks: state.landmarkNames?.count ?? 0))
        _ = try CheckpointStore.load(dir, into: model)
        try model.to(device)
        model.eval()
        return (Predictor(model: model, patchSize: patch, normalization: try Normalization(parsing: config.data.normalization),
                          device: device), state)
    }

    /// `RUN` → `RUN/checkpoints/best` (or latest); a checkpoint folder stays as it is.
    public static func resolve(_ path: String) throws -> String {
        let fm = FileManager.default
        if fm.fileExists(atPath: "\(path)/state.json") { return path }
        for name in ["best", "latest"] where fm.fileExists(atPath: "\(path)/checkpoints/\(name)/state.json") {
            return "\(path)/checkpoints/\(name)"
        }
        throw TrainingError("\(path): not a checkpoint folder (state.json) nor a run folder with checkpoints/best or latest")
    }

    /// The image's channels as a normalised (1, C, spatial…) tensor.
    public func tensor(_ volume: ImageVolume) throws -> Tensor {
        var channels = volume.channels
        for i in channels.indices { normalization.apply(to: &channels[i]) }
        return try Tensor(channels.flatMap(\.storage), shape: [1, channels.count] + volume.shape).to(device)
    }

    public func predict(_ volume: ImageVolume, mirror: Bool = false) throws -> (probabilities: Tensor, labels: Grid<UInt8>) {
        let x = try tensor(volume)
        guard x.shape[1] == model.inChannelCount else {
            throw TrainingError("the image has \(x.shape[1]) channels, the model expects \(model.inChannelCount)")
        }
        guard volume.shape.count == patchSize.count else {
            throw TrainingError("the image is \(volume.shape.count)D, the model \(patchSize.count)D")
        }
        return try predict(normalized: x, spacing: volume.spacing, mirror: mirror)
    }

    /// Prediction of an already normalised (1, C, spatial…) tensor.
    public func predict(normalized x: Tensor, spacing: [Double], mirror: Bool = false) throws -> (probabilities: Tensor, labels: Grid<UInt8>) {
        let p = try predictHeads(normalized: x, spacing: spacing, mirror: mirror, heatmaps: false)
        return (p.probabilities, p.labels)
    }

    /// The model's heatmap head (`heatmaps`, one channel per landmark), if it has one.
    public var heatmapHead: HeadSpec? { model.headSpecs.first { $0.kind == .heatmap } }

    /// Segmentation and, when the model has a heatmap head, the raw (1, K, spatial…) heatmaps,
    /// from one sliding-window pass (both heads of each window stacked along the channels).
    public func predictHeads(_ volume: ImageVolume, mirror: Bool = false) throws -> Prediction {
        let x = try tensor(volume)
        guard x.shape[1] == model.inChannelCount else {
            throw TrainingError("the image has \(x.shape[1]) channels, the model expects \(model.inChannelCount)")
        }
        guard volume.shape.count == patchSize.count else {
            throw TrainingError("the image is \(volume.shape.count)D, the model \(patchSize.count)D")
        }
        return try predictHeads(normalized: x, spacing: volume.spacing, mirror: mirror, heatmaps: true)
    }

    func predictHeads(normalized x: Tensor, spacing: [Double], mirror: Bool, heatmaps: Bool) throws -> Prediction {
        model.eval()
        let window = try SlidingWindow(patchSize: patchSize, mirror: mirror)
        let head = self.head
        let extra = heatmaps ? heatmapHead?.name : nil
        let stacked = try window.logits(of: x) { tile in
            guard let extra else { return try model.head(head, of: tile) }
            let h = try model.heads(tile)
            return try Tensor.cat([try h.require(head, by: "prediction"), try h.require(extra, by: "prediction")], dim: 1)
        }
        let c = extra == nil ? stacked.shape[1] : stacked.shape[1] - heatmapHead!.channels
        var logits = extra == nil ? stacked : try stacked.narrow(dim: 1, start: 0, length: c)
        // A one-channel (sigmoid) head is the two-class logits [0, z]: softmax [1 − σ(z), σ(z)], label 1 where σ(z) > 0.5.
        if logits.shape[1] == 1 { logits = try Tensor.cat([try Tensor.zeros(like: logits), logits], dim: 1) }
        let labels = try logits.argmax(dim: 1).to(.cpu, dtype: .uint8).grid(UInt8.self, spacing: spacing)
        return Prediction(probabilities: try logits.softmax(dim: 1), labels: labels,
                          heatmaps: extra == nil ? nil : try stacked.narrow(dim: 1, start: c, length: stacked.shape[1] - c))
    }
}

/// What `Predictor.predictHeads` returns: softmax (1, C, spatial…), the label map, and the raw
/// heatmaps (1, K, spatial…) of a model with a heatmap head.
public struct Prediction {
    public var probabilities: Tensor
    public var labels: Grid<UInt8>
    public var heatmaps: Tensor?
}

extension SegmentationModel {
    var inChannelCount: Int {
        // The first parameter is the first convolution's weight (out, in, k…).
        parameters().first?.shape[1] ?? 0
    }
}
