import Foundation
import Imaging
import Objectives

/// One-line warnings about data that does not fit a run as the user probably thinks: they do
/// not stop anything, so each names what differs and what happens instead.
public enum RunWarnings {
    /// Writes `line` to stderr (results go to stdout; warnings must not mix into them).
    public static func emit(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }

    /// The dataset's cases no longer match the saved split: cases added (not used) or missing.
    public static func splitDrift(_ split: Split, ids: [String], file: String) -> String? {
        let known = Set(split.train + split.val), now = Set(ids)
        let added = now.subtracting(known).sorted(), missing = known.subtracting(now).sorted()
        guard !added.isEmpty || !missing.isEmpty else { return nil }
        var parts: [String] = []
        if !added.isEmpty { parts.append("\(added.count) case(s) not in the saved split are ignored (\(names(added)))") }
        if !missing.isEmpty { parts.append("\(missing.count) case(s) of the split are missing (\(names(missing)))") }
        return "warning: the dataset changed since \(file) was saved: " + parts.joined(separator: "; ")
    }

    /// A checkpoint scored on a dataset whose labels or channels differ from its training data's.
    public static func checkpointMismatch(_ state: TrainingState, dataset: DatasetDescription, root: String) -> [String] {
        var out: [String] = []
        if let labels = state.labels, labels != dataset.labels {
            out.append("warning: the checkpoint was trained with labels \(describe(labels)), \(root) has \(describe(dataset.labels)); "
                       + "metrics compare label values, whatever their names")
        }
        if let channels = state.channelNames, channels != dataset.channelNames {
            out.append("warning: the checkpoint was trained on channels [\(channels.joined(separator: ", "))], \(root) has "
                       + "[\(dataset.channelNames.joined(separator: ", "))]")
        }
        return out
    }

    /// Landmarks the dataset declares that no objective reads (they are loaded, then unused).
    public static func unusedLandmarks(_ landmarks: [String], needs: Set<TargetField>, objectives: [String]) -> String? {
        guard !landmarks.isEmpty, needs.isDisjoint(with: [.landmarks, .heatmaps]) else { return nil }
        return "warning: the dataset has landmarks (\(names(landmarks))) but no objective uses them (objectives: "
            + "\(objectives.joined(separator: ", "))); add e.g. heatmap-mse with a model that has a heatmaps head (unet2d-mt)"
    }

    /// A patch larger than the image in some dimension: patches are zero-padded.
    public static func patchPadding(patch: [Int], image: [Int], caseID: String) -> String? {
        guard patch.count == image.count, zip(patch, image).contains(where: { $0 > $1 }) else { return nil }
        return "warning: the patch size \(patch) is larger than the images (\(image), case \(caseID)) in some dimension; "
            + "patches are padded, so the model sees padding (set data.patchSize to at most the image size)"
    }

    static func names(_ items: [String]) -> String {
        items.count <= 5 ? items.joined(separator: ", ") : items.prefix(5).joined(separator: ", ") + ", … \(items.count - 5) more"
    }

    static func describe(_ labels: [String: Int]) -> String {
        "{" + labels.sorted { $0.value < $1.value }.map { "\($0.key): \($0.value)" }.joined(separator: ", ") + "}"
    }
}
