import Geometry
import Imaging
import Torch

/// Prediction through a plan's preprocessing (`contour predict --plans`): the image is cropped,
/// normalised and resampled as `contour data preprocess` does, predicted, and the class
/// probabilities are mapped back to the source geometry (undo resampling, undo crop), so the label
/// map has the source's shape and can be written with its header.
extension Predictor {
    public func predict(_ volume: ImageVolume, through preprocessor: Preprocessor, id: String, mirror: Bool = false) throws -> Grid<UInt8> {
        let prepared = try preprocessor.prepare(volume, labels: nil, id: id, source: id)
        let g = prepared.geometry
        guard g.shape.count == patchSize.count else {
            throw TrainingError("case \(id): the plan's configuration \(preprocessor.configurationName) gives \(g.shape.count)D arrays, the model is \(patchSize.count)D")
        }
        let x = try Tensor(prepared.image, shape: [1, g.channels] + g.shape).to(device)
        guard x.shape[1] == model.inChannelCount else {
            throw TrainingError("case \(id): the image has \(x.shape[1]) channels, the model expects \(model.inChannelCount)")
        }
        let probabilities = try predict(normalized: x, spacing: g.spacing, mirror: mirror).probabilities
        let classes = probabilities.shape[1]
        var labels = Preprocessor.restore(probabilities: try probabilities.to(.cpu, dtype: .float32).floats(), classes: classes, geometry: g)
        labels.spacing = volume.spacing
        return labels
    }
}
