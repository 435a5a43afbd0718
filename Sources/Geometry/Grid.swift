/// A dense 2D or 3D array with physical spacing.
///
/// Axes are in numpy/PyTorch order — `[H, W]` or `[D, H, W]` — with the last axis fastest in
/// `storage`, so a `Grid` and a contiguous tensor or `.npy` array share one memory layout.
/// `spacing` (millimetres per voxel) is given in the same axis order.
public struct Grid<Element>: Sendable where Element: Sendable {
    public private(set) var shape: [Int]
    public var spacing: [Double]
    public var storage: [Element]

    public init(shape: [Int], spacing: [Double]? = nil, repeating value: Element) {
        precondition(shape.count == 2 || shape.count == 3, "Grid is 2D or 3D, got shape \(shape)")
        precondition(shape.allSatisfy { $0 >= 0 }, "negative extent in shape \(shape)")
        self.shape = shape
        self.spacing = spacing ?? Array(repeating: 1, count: shape.count)
        precondition(self.spacing.count == shape.count, "spacing \(self.spacing) does not match shape \(shape)")
        self.storage = Array(repeating: value, count: shape.reduce(1, *))
    }

    /// Wraps existing storage; throws when the element count or spacing does not fit the shape.
    public init(shape: [Int], spacing: [Double]? = nil, storage: [Element]) throws {
        guard shape.count == 2 || shape.count == 3 else {
            throw GeometryError.invalidShape("a Grid is 2D or 3D, got shape \(shape)")
        }
        guard shape.allSatisfy({ $0 >= 0 }) else {
            throw GeometryError.invalidShape("negative extent in shape \(shape)")
        }
        let count = shape.reduce(1, *)
        guard storage.count == count else {
            throw GeometryError.invalidShape("shape \(shape) needs \(count) elements, got \(storage.count)")
        }
        let sp = spacing ?? Array(repeating: 1, count: shape.count)
        guard sp.count == shape.count, sp.allSatisfy({ $0 > 0 && $0.isFinite }) else {
            throw GeometryError.invalidSpacing("spacing \(sp) must have \(shape.count) positive finite values")
        }
        self.shape = shape
        self.spacing = sp
        self.storage = storage
    }

    public var rank: Int { shape.count }
    public var count: Int { storage.count }

    /// Row-major strides in elements.
    public var strides: [Int] {
        var s = Array(repeating: 1, count: shape.count)
        var i = shape.count - 2
        while i >= 0 { s[i] = s[i + 1] * shape[i + 1]; i -= 1 }
        return s
    }

    @inlinable public subscript(y: Int, x: Int) -> Element {
        get { storage[y * shape[1] + x] }
        set { storage[y * shape[1] + x] = newValue }
    }

    @inlinable public subscript(z: Int, y: Int, x: Int) -> Element {
        get { storage[(z * shape[1] + y) * shape[2] + x] }
        set { storage[(z * shape[1] + y) * shape[2] + x] = newValue }
    }

    @inlinable public func map<T>(_ transform: (Element) throws -> T) rethrows -> Grid<T> {
        Grid<T>(unchecked: shape, spacing: spacing, storage: try storage.map(transform))
    }

    /// The 2D slice at depth `z` of a 3D grid (spacing keeps the in-plane values).
    public func slice(z: Int) -> Grid<Element> {
        precondition(rank == 3 && z >= 0 && z < shape[0], "slice(z: \(z)) of a grid of shape \(shape)")
        let plane = shape[1] * shape[2]
        return Grid(unchecked: [shape[1], shape[2]], spacing: [spacing[1], spacing[2]],
                    storage: Array(storage[(z * plane)..<((z + 1) * plane)]))
    }

    @usableFromInline init(unchecked shape: [Int], spacing: [Double], storage: [Element]) {
        self.shape = shape
        self.spacing = spacing
        self.storage = storage
    }
}

extension Grid: Equatable where Element: Equatable {}

extension Grid where Element == Bool {
    /// The number of true elements (bytes summed, no per-element branch).
    public var trueCount: Int {
        storage.withUnsafeBufferPointer { p in p.baseAddress.map { QueriedDistanceTransform.countTrue($0, p.count) } ?? 0 }
    }
}

public enum GeometryError: Error, CustomStringConvertible, Equatable {
    case invalidShape(String)
    case invalidSpacing(String)
    case invalidArgument(String)
    case format(String)

    public var description: String {
        switch self {
        case .invalidShape(let m), .invalidSpacing(let m), .invalidArgument(let m), .format(let m): return m
        }
    }
}
