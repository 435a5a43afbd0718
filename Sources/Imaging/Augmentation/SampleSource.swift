import Geometry

/// Where spatial augmentation reads a case: a sample held whole in memory, or a reader of boxes
/// (memory-mapped preprocessed cases) that never loads the whole case. A rotated or scaled patch
/// reads the box its sampling taps cover, so both give the same patch for the same draws.
public struct SampleSource: Sendable {
    /// The case's spatial shape.
    public let shape: [Int]
    let whole: Sample?
    /// Reads the box (origin, size), mirrored along the axes where flips is set.
    let reader: (@Sendable (_ origin: [Int], _ size: [Int], _ flips: [Bool]?) throws -> Sample)?
    /// A reader's patches also carry `unaugmentedLabels` (the plain patch box's labels).
    public var keepsUnaugmentedLabels = false

    /// A sample in memory.
    public init(_ sample: Sample) {
        shape = sample.shape
        whole = sample
        reader = nil
    }

    /// A case of `shape` read by boxes: `read(origin, size)` returns the box `origin ..< origin + size`
    /// (zero outside the case; landmarks shifted by −origin, as `CropPad.crop`).
    public init(shape: [Int], read: @escaping @Sendable (_ origin: [Int], _ size: [Int]) throws -> Sample) {
        self.shape = shape
        whole = nil
        reader = { origin, size, flips in
            let s = try read(origin, size)
            guard let flips, flips.contains(true), s.shape == size else { return s }
            return SpatialTransform.permute(s, permutation: Array(0..<size.count), flipped: flips)
        }
    }

    /// As `init(shape:read:)`, the reader also mirroring the box along the axes where `flips` is
    /// set (nil: none), as `SpatialTransform.flip` would after it, landmarks included.
    public init(shape: [Int], mirroredRead: @escaping @Sendable (_ origin: [Int], _ size: [Int], _ flips: [Bool]?) throws -> Sample) {
        self.shape = shape
        whole = nil
        reader = mirroredRead
    }

    /// The box `origin ..< origin + size` (zero outside the case), mirrored along the axes where
    /// `flips` is set.
    public func read(origin: [Int], size: [Int], flips: [Bool]? = nil) throws -> Sample {
        let flips = flips?.contains(true) == true ? flips : nil
        if let whole { return try CropPad.crop(whole, origin: origin, size: size, flips: flips) }
        let s = try reader!(origin, size, flips)
        guard s.shape == size else { throw ImagingError("case \(s.id): a read of \(size) voxels at \(origin) returned \(s.shape)") }
        return s
    }

    /// The box of the case that holds every in-case interpolation tap of the points `coords`
    /// (axis-major, rank × n; cubic reaches 1 below and 2 above the floor), at least one voxel.
    static func tapBox(_ coords: [Float], count n: Int, shape: [Int]) -> (origin: [Int], size: [Int]) {
        var origin = [Int](), size = [Int]()
        coords.withUnsafeBufferPointer { c in
            for a in 0..<shape.count {
                let (lo, hi) = VoxelMath.extrema(UnsafeBufferPointer(rebasing: c[(a * n)..<((a + 1) * n)]))
                let first = Swift.min(Swift.max(Interpolator.floorInt(lo) - 2, 0), shape[a] - 1)
                let end = Swift.min(Swift.max(Interpolator.floorInt(hi) + 3, first + 1), shape[a])
                origin.append(first)
                size.append(end - first)
            }
        }
        return (origin, size)
    }
}
