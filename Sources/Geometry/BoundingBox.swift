/// The smallest box holding every true element of a mask, and cropping to it.
public struct BoundingBox: Sendable, Equatable {
    /// Inclusive lower and exclusive upper corner, per axis.
    public var lower: [Int]
    public var upper: [Int]

    public init(lower: [Int], upper: [Int]) {
        self.lower = lower
        self.upper = upper
    }

    /// nil when the mask has no true element.
    public init?(_ mask: Grid<Bool>) {
        let shape = mask.shape, strides = mask.strides
        var lo = shape, hi = [Int](repeating: 0, count: shape.count)
        var any = false
        mask.storage.withUnsafeBufferPointer { m in
            for i in 0..<m.count where m[i] {
                any = true
                var rem = i
                for a in 0..<shape.count {
                    let idx = rem / strides[a]
                    rem -= idx * strides[a]
                    if idx < lo[a] { lo[a] = idx }
                    if idx + 1 > hi[a] { hi[a] = idx + 1 }
                }
            }
        }
        guard any else { return nil }
        self.init(lower: lo, upper: hi)
    }

    /// Grown by `margin` on every side, clipped to `shape`.
    public func expanded(by margin: Int, within shape: [Int]) -> BoundingBox {
        BoundingBox(lower: lower.map { max(0, $0 - margin) },
                    upper: zip(upper, shape).map { min($1, $0 + margin) })
    }

    public var shape: [Int] { zip(lower, upper).map { $1 - $0 } }
}

extension Grid {
    /// The elements inside `box` (same spacing).
    public func cropped(to box: BoundingBox) -> Grid<Element> {
        let outShape = box.shape
        var out: [Element] = []
        out.reserveCapacity(outShape.reduce(1, *))
        if rank == 2 {
            for y in box.lower[0]..<box.upper[0] {
                let row = y * shape[1]
                out.append(contentsOf: storage[(row + box.lower[1])..<(row + box.upper[1])])
            }
        } else {
            for z in box.lower[0]..<box.upper[0] {
                for y in box.lower[1]..<box.upper[1] {
                    let row = (z * shape[1] + y) * shape[2]
                    out.append(contentsOf: storage[(row + box.lower[2])..<(row + box.upper[2])])
                }
            }
        }
        return Grid(unchecked: outShape, spacing: spacing, storage: out)
    }
}
