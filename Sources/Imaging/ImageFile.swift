import Geometry

/// Reads and writes any supported image by its file extension.
public enum ImageFile {
    public enum Format: String, Sendable, CaseIterable {
        case png, jpeg, tiff, nifti, npy
    }

    /// Extensions Contour recognises, longest first (".nii.gz" before ".gz").
    public static let extensions: [(String, Format)] = [
        (".nii.gz", .nifti), (".nii", .nifti), (".png", .png), (".jpg", .jpeg), (".jpeg", .jpeg),
        (".tif", .tiff), (".tiff", .tiff), (".npy", .npy),
    ]

    public static func format(of path: String) -> Format? {
        let lower = path.lowercased()
        return extensions.first { lower.hasSuffix($0.0) }?.1
    }

    /// The file name without its (possibly double) image extension.
    public static func stem(_ name: String) -> String {
        let lower = name.lowercased()
        if let (ext, _) = extensions.first(where: { lower.hasSuffix($0.0) }) { return String(name.dropLast(ext.count)) }
        return name
    }

    public static func read(_ path: String) throws -> ImageVolume {
        guard let format = format(of: path) else {
            throw ImagingError("\(path): unknown image format (expected \(extensions.map(\.0).joined(separator: ", ")))")
        }
        guard FileSystem.exists(path) else { throw ImagingError("\(path): no such file") }
        switch format {
        case .png: return try PNGFile.readImage(path: path)
        case .jpeg: return try JPEGFile.readImage(path: path)
        case .tiff: return try TIFFFile.readImage(path: path)
        case .nifti: return try NIfTIFile.readImage(path: path)
        case .npy: return try NPYFile.readImage(path: path)
        }
    }

    /// Reads a label map (one channel of integers 0…255).
    public static func readLabels(_ path: String) throws -> (labels: Grid<UInt8>, header: ImageHeader) {
        let volume = try read(path)
        return (try volume.labels(path: path), volume.header)
    }

    /// Writes a label map in the format of `path`'s extension; NIfTI reuses `header.nifti` when given.
    public static func writeLabels(_ labels: Grid<UInt8>, path: String, header: ImageHeader? = nil) throws {
        guard let format = format(of: path) else { throw ImagingError("\(path): unknown image format") }
        switch format {
        case .png:
            guard labels.rank == 2 else { throw ImagingError("\(path): PNG holds 2D label maps, got shape \(labels.shape)") }
            try PNGFile.write(labels.map { UInt16($0) }, path: path, sixteenBit: false)
        case .tiff: try TIFFFile.write(labels.map { Float($0) }, path: path, as: .uint8)
        case .nifti: try NIfTIFile.write(labels.map { Float($0) }, path: path, as: .uint8, like: header?.nifti)
        case .npy: try NPYFile.write(NPYArray(shape: labels.shape, elements: labels.storage), path: path)
        case .jpeg: throw ImagingError("\(path): JPEG is lossy and cannot hold label maps; use PNG")
        }
    }
}

/// `.npy` arrays as images (2D or 3D, one channel).
public enum NPYFile {
    public static func readImage(path: String) throws -> ImageVolume {
        let array: NPYArray
        do { array = try NPYArray(decoding: try FileSystem.read(path), name: path) } catch let e as GeometryError {
            throw ImagingError(e.description)
        }
        guard array.shape.count == 2 || array.shape.count == 3 else {
            throw ImagingError("\(path): expected a 2D or 3D array, got shape \(array.shape)")
        }
        let isInteger = ![.float16, .float32, .float64].contains(array.scalarType)
        let grid = try Grid(shape: array.shape, storage: array.doubles().map { Float($0) })
        return ImageVolume(channels: [grid], header: ImageHeader(spacing: grid.spacing), isInteger: isInteger)
    }

    public static func write(_ array: NPYArray, path: String) throws {
        try FileSystem.writeAtomically(array.encoded(), to: path)
    }
}
