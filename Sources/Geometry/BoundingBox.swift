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
        let shape = mask.shape
        let nx = shape[shape.count - 1]
        let rows = nx == 0 ? 0 : mask.count / nx
        var lo = shape, hi = [Int](repeating: 0, count: shape.count)
        var any = false
        mask.storage.withUnsafeBufferPointer { m in
            // Row by row: only the first and last true element of a row can move the x bounds.
            for r in 0..<rows {
                let base = r * nx
                guard let first = (0..<nx).first(where: { m[base + $0] }) else { continue }
                let last = (first..<nx).last(where: { m[base + $0] })!
                any = true
                lo[shape.count - 1] = min(lo[shape.count - 1], first)
                hi[shape.count - 1] = max(hi[shape.count - 1], last + 1)
                let y = shape.count == 3 ? r % shape[1] : r
                let ya = shape.count - 2
                lo[ya] = min(lo[ya], y); hi[ya] = max(hi[ya], y + 1)
                if shape.count == 3 {
                    let z = r / shape[1]
                    lo[0] = min(lo[0], z); hi[0] = max(hi[0], z + 1)
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
