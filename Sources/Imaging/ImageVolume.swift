import Geometry

/// Spatial metadata of an image file, in numpy axis order ([H, W] or [D, H, W]).
public struct ImageHeader: Sendable {
    public var spacing: [Double]
    /// 4×4 voxel-index → world (mm) matrix for volumes with one (NIfTI's sform, else qform),
    /// acting on (x, y, z, 1) = (last, middle, first axis index, 1).
    public var affine: [[Double]]?
    /// The NIfTI header a volume was read with, so predictions can be written back with it
    /// and overlay the source in ITK-SNAP or 3D Slicer.
    public var nifti: NIfTIHeader?

    public init(spacing: [Double], affine: [[Double]]? = nil, nifti: NIfTIHeader? = nil) {
        self.spacing = spacing
        self.affine = affine
        self.nifti = nifti
    }
}

/// A decoded image file: one float grid per channel (all the same shape), and its header.
/// `isInteger` says whether the file stored integers (so label maps can be read exactly).
public struct ImageVolume: Sendable {
    public var channels: [Grid<Float>]
    public var header: ImageHeader
    public var isInteger: Bool

    public init(channels: [Grid<Float>], header: ImageHeader, isInteger: Bool) {
        precondition(!channels.isEmpty, "an image has at least one channel")
        self.channels = channels
        self.header = header
        self.isInteger = isInteger
    }

    public var shape: [Int] { channels[0].shape }
    public var spacing: [Double] { header.spacing }

    /// The single channel as an exact label map; errors name `path` when values are not labels.
    public func labels(path: String) throws -> Grid<UInt8> {
        guard channels.count == 1 else {
            throw ImagingError("\(path): a label map must have one channel, found \(channels.count)")
        }
        var bad: Float?
        let out = channels[0].storage.withUnsafeBufferPointer { src in
            [UInt8](unsafeUninitializedCapacity: src.count) { dst, initialized in
                for i in 0..<src.count {
                    let v = src[i]
                    // Integral values in 0…255 only (Float(Int(v)) == v avoids a libm call).
                    if v >= 0 && v <= 255 && Float(Int(v)) == v { dst[i] = UInt8(Int(v)) } else { dst[i] = 0; if bad == nil { bad = v } }
                }
                initialized = src.count
            }
        }
        if let bad { throw ImagingError("\(path): label maps hold integers 0…255, found \(bad)") }
        return try Grid(shape: shape, spacing: spacing, storage: out)
    }
}
