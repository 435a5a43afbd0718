import Imaging
import NeuralNet

/// BaBLoss's HPL iteration (METHODS §5.1): every batch holds h landmark cases then B − h
/// segmentation cases (official: h = B/2, landmark first) and runs the model once on all of them;
/// each objective sees only the targets its samples carry (heatmap terms the landmark cases',
/// label terms the segmentation cases'). The loader's epoch ends with the shorter set; each set
/// can be repeated per epoch (official: knee landmark train set ×3, fetal atlas segmentation ×3).
///
/// The two sets are the training cases with landmarks (`landmarksTr/`, per `tasks`) and those with
/// a label map: one dataset folder whose `tasks` mark the landmark-only and segmentation-only cases.
/// A case carrying both is in both sets.
public final class PairedStep: TrainingStep {
    public let landmarkRepeats: Int, segmentationRepeats: Int
    /// Landmark cases per batch; nil is half the batch.
    public let landmarkSamples: Int?

    public init(options o: Options) throws {
        landmarkRepeats = try o.int("landmarkRepeats", default: 1, requirement: "an integer ≥ 1") { $0 >= 1 }
        segmentationRepeats = try o.int("segmentationRepeats", default: 1, requirement: "an integer ≥ 1") { $0 >= 1 }
        landmarkSamples = try o.optionalInt("landmarkSamples", requirement: "an integer ≥ 1") { $0 >= 1 }
        try o.finish()
    }

    public var name: String { "paired" }

    public func composition(cases: [DatasetCase], batchSize: Int) throws -> BatchComposition? {
        let h = landmarkSamples ?? batchSize / 2
        guard h >= 1, h < batchSize else {
            throw TrainingError("step paired: a batch of \(batchSize) cannot hold \(h) landmark case(s) and at least one segmentation case; "
                                + "set data.batchSize ≥ 2 (official: 4, two of each)" + (landmarkSamples == nil ? "" : " or change landmarkSamples"))
        }
        let landmarks = cases.indices.filter { cases[$0].landmarkPath != nil && cases[$0].tasks.hasLandmarks }
        let labels = cases.indices.filter { cases[$0].labelPath != nil && cases[$0].tasks.hasSegmentation }
        guard !landmarks.isEmpty else {
            throw TrainingError("step paired: no training case has landmarks (landmarksTr/CASE.json with dataset.json \"landmarks\")")
        }
        guard !labels.isEmpty else { throw TrainingError("step paired: no training case has a label map (labelsTr/)") }
        do {
            return try BatchComposition(groups: [
                BatchComposition.Group(name: "landmark", members: landmarks, perBatch: h, repeats: landmarkRepeats),
                BatchComposition.Group(name: "segmentation", members: labels, perBatch: batchSize - h, repeats: segmentationRepeats),
            ])
        } catch let e as ImagingError {
            throw TrainingError("step paired: \(e.description)")
        }
    }

    public func step(_ batch: Batch, context: StepContext) throws -> StepOutcome {
        let heads = try context.forward(try context.inputs(batch))
        return try context.apply(try context.losses(heads, try context.targets(batch)))
    }
}
