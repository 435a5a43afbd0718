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
        var lo = shape, hi = [Int](repeating: 0, count: shape.count)
        let strides = channels[0].strides
        var any = [Bool](repeating: false, count: channels[0].count)
        for c in channels {
            c.storage.withUnsafeBufferPointer { p in
                for i in 0..<p.count where p[i] != 0 { any[i] = true }
            }
        }
        // Reduce per outer row, then per axis, instead of decoding every voxel's index.
        let rowLength = shape[shape.count - 1], rows = any.count / Swift.max(rowLength, 1)
        for r in 0..<rows {
            let base = r * rowLength
            guard let first = (0..<rowLength).first(where: { any[base + $0] }) else { continue }
            let last = (0..<rowLength).last(where: { any[base + $0] })!
            var rest = base
            var index = [Int](repeating: 0, count: shape.count)
            for a in 0..<(shape.count - 1) { index[a] = rest / strides[a]; rest %= strides[a] }
            for a in 0..<(shape.count - 1) { lo[a] = Swift.min(lo[a], index[a]); hi[a] = Swift.max(hi[a], index[a] + 1) }
            lo[shape.count - 1] = Swift.min(lo[shape.count - 1], first)
            hi[shape.count - 1] = Swift.max(hi[shape.count - 1], last + 1)
        }
        if hi.allSatisfy({ $0 == 0 }) { return CropBox(lower: [Int](repeating: 0, count: shape.count), upper: shape) }
        return CropBox(lower: lo, upper: hi)
    }

    /// The part of `grid` inside the box (spacing kept).
    public func crop<T>(_ grid: Grid<T>) -> Grid<T> {
        let s = shape, strides = grid.strides
        var out: [T] = []
        out.reserveCapacity(s.reduce(1, *))
        let row = s[s.count - 1]
        let rows = s.dropLast().reduce(1, *)
        var index = [Int](repeating: 0, count: s.count - 1)
        for _ in 0..<rows {
            var base = lower[s.count - 1]
            for a in 0..<(s.count - 1) { base += (lower[a] + index[a]) * strides[a] }
            out.append(contentsOf: grid.storage[base..<(base + row)])
            var a = s.count - 2
            while a >= 0 {
                index[a] += 1
                if index[a] < s[a] { break }
                index[a] = 0
                a -= 1
            }
        }
        return try! Grid(shape: s, spacing: grid.spacing, storage: out)
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
