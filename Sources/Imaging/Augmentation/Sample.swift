import Geometry

/// One training example as augmentation and batching see it: image channels, an optional
/// label map, optional landmarks (numpy-order voxel coordinates) and what the case carries.
public struct Sample: Sendable {
    public var id: String
    /// One grid per channel, all of one shape.
    public var image: [Grid<Float>]
    public var labels: Grid<UInt8>?
    /// The label map cropped like `labels` but not rotated, scaled, deformed or flipped — kept
    /// only when a loader is asked to (ConDSeg's published background target, METHODS §4.9).
    public var unaugmentedLabels: Grid<UInt8>?
    /// Landmark name → numpy-order voxel coordinates ([y, x] or [z, y, x]).
    public var landmarks: [String: [Double]]?
    public var tasks: TaskAvailability
    /// Weak labels (`pseudoLabelsTr/CASE<ending>`, from `contour pseudo-label`), transformed with
    /// the labels; values are class ids, 0 elsewhere. Only the `sam` objective reads them.
    public var pseudoLabels: Grid<UInt8>?
    /// The classes the whole pseudo-label file holds (a crop may lose some; they still count as targets).
    public var pseudoClasses: Set<Int> = []

    public init(id: String, image: [Grid<Float>], labels: Grid<UInt8>? = nil, landmarks: [String: [Double]]? = nil,
                tasks: TaskAvailability? = nil) {
        self.id = id
        self.image = image
        self.labels = labels
        self.landmarks = landmarks
        self.tasks = tasks ?? TaskAvailability(
            labels: labels == nil ? [] : Set(labels!.storage.lazy.filter { $0 != 0 }.map(Int.init)),
            landmarks: Set(landmarks?.keys.map { $0 } ?? []))
    }

    public var shape: [Int] { image[0].shape }
    public var rank: Int { image[0].rank }
    public var channelCount: Int { image.count }

    /// Reads a dataset case (all channels, labels, landmarks in voxel coordinates).
    public static func load(_ c: DatasetCase) throws -> Sample {
        let volume = try Dataset.loadImage(c)
        let labels = try Dataset.loadLabels(c)
        if let labels, labels.shape != volume.shape {
            throw ImagingError("\(c.labelPath ?? c.id): label shape \(labels.shape) differs from the image's \(volume.shape)")
        }
        let landmarks = try Dataset.loadLandmarks(c, rank: volume.shape.count, header: volume.header)
        var s = Sample(id: c.id, image: volume.channels, labels: labels, landmarks: landmarks?.points, tasks: c.tasks)
        if let path = c.pseudoLabelPath {
            let pseudo = try ImageFile.readLabels(path).labels
            guard pseudo.shape == volume.shape else {
                throw ImagingError("\(path): pseudo-label shape \(pseudo.shape) differs from the image's \(volume.shape)")
            }
            s.pseudoLabels = pseudo
            s.pseudoClasses = Set(pseudo.storage.lazy.filter { $0 != 0 }.map(Int.init))
        }
        return s
    }

    /// Throws unless every channel and the label map share one shape.
    func validate() throws {
        guard let first = image.first else { throw ImagingError("case \(id): no image channels") }
        for (i, c) in image.enumerated() where c.shape != first.shape {
            throw ImagingError("case \(id): channel \(i) has shape \(c.shape), channel 0 \(first.shape)")
        }
        if let labels, labels.shape != first.shape {
            throw ImagingError("case \(id): label shape \(labels.shape) differs from the image's \(first.shape)")
        }
        if let unaugmentedLabels, unaugmentedLabels.shape != first.shape {
            throw ImagingError("case \(id): unaugmented label map \(unaugmentedLabels.shape) does not match the image \(first.shape)")
        }
        if let pseudoLabels, pseudoLabels.shape != first.shape {
            throw ImagingError("case \(id): pseudo-label shape \(pseudoLabels.shape) differs from the image's \(first.shape)")
        }
    }
}
