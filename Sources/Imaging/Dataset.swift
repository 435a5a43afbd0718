import Geometry

/// One case of a dataset: its files and what it carries.
public struct DatasetCase: Sendable, Equatable {
    public var id: String
    /// One file per channel, `CASE_0000.ext`, `CASE_0001.ext`, …
    public var imagePaths: [String]
    public var labelPath: String?
    public var landmarkPath: String?
    public var tasks: TaskAvailability
    /// `pseudoLabelsTr/CASE<ending>` when that file exists (weak labels for the `sam` objective).
    public var pseudoLabelPath: String? = nil
}

/// A dataset in the nnU-Net v2 layout: `dataset.json`, `imagesTr/`, `labelsTr/`, optional
/// `imagesTs/`, and Contour's `landmarksTr/CASE.json`. A folder prepared for nnU-Net opens as is.
public struct Dataset: Sendable {
    public var root: String
    public var description: DatasetDescription
    public var training: [DatasetCase]
    public var test: [DatasetCase]

    /// Where `contour pseudo-label` output is picked up from (one label file per case, optional).
    public static let pseudoLabelFolder = "pseudoLabelsTr"

    public static func open(_ root: String) throws -> Dataset {
        guard FileSystem.isDirectory(root) else { throw ImagingError("\(root): no such dataset folder") }
        guard FileSystem.exists("\(root)/dataset.json") else {
            throw ImagingError("\(root)/dataset.json: missing (a dataset folder in the nnU-Net v2 layout holds dataset.json, imagesTr/ and labelsTr/)")
        }
        let description = try DatasetDescription.read(path: "\(root)/dataset.json")
        guard FileSystem.isDirectory("\(root)/imagesTr") else {
            throw ImagingError("\(root)/imagesTr: missing (training images go there as CASE_0000\(description.fileEnding))")
        }
        let training = try cases(in: "\(root)/imagesTr", root: root, description: description, labelled: true)
        let test = FileSystem.isDirectory("\(root)/imagesTs")
            ? try cases(in: "\(root)/imagesTs", root: root, description: description, labelled: false) : []
        return Dataset(root: root, description: description, training: training, test: test)
    }

    /// Case ids from `CASE_XXXX<ending>` names; every id gets one path per declared channel
    /// (missing channel files keep their expected path, for `data check` to report).
    static func cases(in folder: String, root: String, description: DatasetDescription, labelled: Bool) throws -> [DatasetCase] {
        let ending = description.fileEnding
        var ids = Set<String>()
        for name in try FileSystem.list(folder) {
            guard let (id, _) = imageName(name, ending: ending) else { continue }
            try SafeName.check(id, "case identifier", in: "\(folder)/\(name)")
            ids.insert(id)
        }
        return ids.sorted().map { id in
            let images = (0..<description.channelNames.count).map { c -> String in
                let suffix = String(c)
                return "\(folder)/\(id)_\(String(repeating: "0", count: 4 - suffix.count))\(suffix)\(ending)"
            }
            let tasks = description.availability(of: id)
            let label = "\(root)/labelsTr/\(id)\(ending)"
            let landmarks = "\(root)/landmarksTr/\(id).json"
            let pseudo = "\(root)/\(pseudoLabelFolder)/\(id)\(ending)"
            return DatasetCase(
                id: id, imagePaths: images,
                labelPath: labelled && (tasks.hasSegmentation || FileSystem.exists(label)) ? label : nil,
                landmarkPath: labelled && (tasks.hasLandmarks || FileSystem.exists(landmarks)) ? landmarks : nil,
                tasks: labelled ? tasks : TaskAvailability(labels: [], landmarks: []),
                pseudoLabelPath: labelled && FileSystem.exists(pseudo) ? pseudo : nil)
        }
    }

    /// `CASE_0000<ending>` → ("CASE", 0); nil for names that do not follow the convention
    /// (`data check` reports those, since loading skips them).
    static func imageName(_ name: String, ending: String) -> (id: String, channel: Int)? {
        guard name.hasSuffix(ending) else { return nil }
        let stem = name.dropLast(ending.count)
        guard stem.count > 5, stem[stem.index(stem.endIndex, offsetBy: -5)] == "_",
              stem.suffix(4).allSatisfy({ $0.isASCII && $0.isNumber }), let channel = Int(stem.suffix(4)) else { return nil }
        return (String(stem.dropLast(5)), channel)
    }

    public func trainingCase(_ id: String) throws -> DatasetCase {
        guard let c = training.first(where: { $0.id == id }) else { throw ImagingError("\(root): no training case \"\(id)\"") }
        return c
    }

    /// All channels of a case as one image (shapes must agree).
    public static func loadImage(_ c: DatasetCase) throws -> ImageVolume {
        var channels: [Grid<Float>] = []
        var header: ImageHeader?
        var isInteger = true
        for path in c.imagePaths {
            let v = try ImageFile.read(path)
            if let first = channels.first, first.shape != v.shape {
                throw ImagingError("\(path): shape \(v.shape) differs from channel 0's \(first.shape)")
            }
            header = header ?? v.header
            isInteger = isInteger && v.isInteger
            channels += v.channels
        }
        guard let header else { throw ImagingError("case \(c.id) has no image files") }
        return ImageVolume(channels: channels, header: header, isInteger: isInteger)
    }

    public static func loadLabels(_ c: DatasetCase) throws -> Grid<UInt8>? {
        guard let path = c.labelPath else { return nil }
        return try ImageFile.readLabels(path).labels
    }

    public static func loadLandmarks(_ c: DatasetCase, rank: Int, header: ImageHeader?) throws -> Landmarks? {
        guard let path = c.landmarkPath, FileSystem.exists(path) else { return nil }
        return try Landmarks.read(path: path, rank: rank, header: header)
    }
}
