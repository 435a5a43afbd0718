import Geometry

/// The bounding box of the voxels that are non-zero in any channel (nnU-Net's crop to non-zero):
/// `lower` inclusive, `upper` exclusive, per axis. An all-zero image keeps its full extent.
public struct CropBox: Sendable, Codable, Equatable {
    public var lower: [Int]
    public var upper: [Int]

    public init(lower: [Int], upper: [Int]) {
        self.lower = lower
        self.upper = upper
    }

    public var shape: [Int] { zip(lower, upper).map { $1 - $0 } }

    public static func nonZero(_ channels: [Grid<Float>]) -> CropBox {
        let shape = channels[0].shape
        var any = Grid<Bool>(shape: shape, repeating: false)
        any.storage.withUnsafeMutableBufferPointer { m in
            for c in channels {
                c.storage.withUnsafeBufferPointer { p in
                    for i in 0..<p.count where p[i] != 0 { m[i] = true }
                }
            }
        }
        guard let box = BoundingBox(any) else { return CropBox(lower: [Int](repeating: 0, count: shape.count), upper: shape) }
        return CropBox(lower: box.lower, upper: box.upper)
    }

    /// The part of `grid` inside the box (spacing kept).
    public func crop<T>(_ grid: Grid<T>) -> Grid<T> {
        grid.cropped(to: BoundingBox(lower: lower, upper: upper))
    }

    /// `grid` (of the box's shape) placed into a grid of `full` shape filled with `fill`.
    public func uncrop<T>(_ grid: Grid<T>, into full: [Int], fill: T) -> Grid<T> {
        var out = Grid<T>(shape: full, spacing: grid.spacing, repeating: fill)
        let s = shape, strides = out.strides
        let row = s[s.count - 1]
        let rows = s.dropLast().reduce(1, *)
        var index = [Int](repeating: 0, count: s.count - 1)
        for r in 0..<rows {
            var base = lower[s.count - 1]
            for a in 0..<(s.count - 1) { base += (lower[a] + index[a]) * strides[a] }
            out.storage.replaceSubrange(base..<(base + row), with: grid.storage[(r * row)..<((r + 1) * row)])
            var a = s.count - 2
            while a >= 0 {
                index[a] += 1
                if index[a] < s[a] { break }
                index[a] = 0
                a -= 1
            }
        }
        return out
    }
}
