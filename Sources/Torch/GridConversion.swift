import Geometry

/// `Grid` ↔ `Tensor`: both are row-major in numpy axis order, so conversion is one copy.
extension Tensor {
    /// A tensor of the grid's shape (no batch or channel dims added).
    public init<T: TensorScalar>(grid: Grid<T>, device: Device = .cpu) throws {
        try self.init(grid.storage, shape: grid.shape, device: device)
    }

    /// The tensor as a grid of `T` after dropping leading size-1 (batch, channel) dims: down to
    /// the rank of `spacing` when given, else to at most 3 dims.
    public func grid<T: TensorScalar>(_ type: T.Type = T.self, spacing: [Double]? = nil) throws -> Grid<T> {
        var s = shape
        let rank = spacing?.count ?? 3
        while s.count > rank, s.first == 1 { s.removeFirst() }
        guard s.count == 2 || s.count == 3 else {
            throw TorchError("a Grid is 2-D or 3-D; tensor of shape \(shape) cannot become one")
        }
        do {
            return try Grid(shape: s, spacing: spacing, storage: try toArray(T.self))
        } catch let e as GeometryError {
            throw TorchError(e.description)
        }
    }
}
