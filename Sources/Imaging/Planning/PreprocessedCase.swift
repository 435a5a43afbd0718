import FoundationEssentials

/// `CASE.json` beside a preprocessed case's `CASE.npy` (image, float32 [C, …]) and `CASE_seg.npy`
/// (labels, uint8 […]): what undoing the preprocessing needs, and where the foreground is.
public struct PreprocessedCase: Sendable, Codable, Equatable {
    public var id: String
    public var configuration: String
    /// The source image: shape and spacing (numpy order), 4×4 voxel → world matrix when it had one.
    public var originalShape: [Int]
    public var originalSpacing: [Double]
    public var affine: [[Double]]?
    /// The non-zero box of the source the rest was cut from.
    public var cropBox: CropBox
    /// After resampling: the stored arrays' spatial shape and their spacing.
    public var shape: [Int]
    public var spacing: [Double]
    public var channels: Int
    /// The axis resampled with order 0 under nnU-Net's separate-z rule, if any.
    public var separateAxis: Int?
    /// Label value (as text) → up to 10 000 voxel indices (numpy order) of that class, drawn without
    /// replacement (at least 1 % of the class), for foreground oversampling.
    public var foregroundLocations: [String: [[Int]]]
    /// Landmark name → numpy-order voxel coordinates in the stored arrays (the source's moved by
    /// the crop and the resampling, `Preprocessor.landmark`); nil without a landmark file.
    public var landmarks: [String: [Double]]?
    /// Byte sizes of the two arrays, so resuming can tell a complete case from a cut-off one.
    public var imageBytes: Int
    public var labelBytes: Int?

    public init(id: String, configuration: String, originalShape: [Int], originalSpacing: [Double], affine: [[Double]]?, cropBox: CropBox,
                shape: [Int], spacing: [Double], channels: Int, separateAxis: Int?, foregroundLocations: [String: [[Int]]],
                imageBytes: Int, labelBytes: Int?, landmarks: [String: [Double]]? = nil) {
        self.id = id
        self.configuration = configuration
        self.originalShape = originalShape
        self.originalSpacing = originalSpacing
        self.affine = affine
        self.cropBox = cropBox
        self.shape = shape
        self.spacing = spacing
        self.channels = channels
        self.separateAxis = separateAxis
        self.foregroundLocations = foregroundLocations
        self.imageBytes = imageBytes
        self.labelBytes = labelBytes
        self.landmarks = landmarks
    }

    public static func read(path: String) throws -> PreprocessedCase {
        do { return try JSONDecoder().decode(PreprocessedCase.self, from: Data(try FileSystem.read(path))) } catch let e as ImagingError {
            throw e
        } catch {
            throw ImagingError("\(path): not a preprocessed case description (\(error))")
        }
    }

    public func write(path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        try FileSystem.writeAtomically(Array(ExperimentPlans.indent(Array(try encoder.encode(self))).utf8) + [10], to: path)
    }
}
