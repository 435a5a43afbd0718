import CTorch

/// Views and reshaping: the element order of the data is never changed by these, only how it is indexed.
extension Tensor {
    public func reshape(_ shape: [Int]) throws -> Tensor {
        let s = shape.map(Int64.init)
        return try map { ct_reshape($0, s, Int32(s.count), $1) }
    }

    public func permute(_ dims: [Int]) throws -> Tensor {
        let d = dims.map(Int64.init)
        return try map { ct_permute($0, d, Int32(d.count), $1) }
    }

    public func transposed(_ d0: Int, _ d1: Int) throws -> Tensor {
        try map { ct_transpose($0, Int64(d0), Int64(d1), $1) }
    }

    /// A view of this tensor's storage with explicit sizes, strides (in elements) and storage offset.
    public func asStrided(_ size: [Int], strides: [Int], offset: Int = 0) throws -> Tensor {
        guard size.count == strides.count else {
            throw TorchError("asStrided: \(size.count) sizes but \(strides.count) strides")
        }
        let s = size.map(Int64.init), st = strides.map(Int64.init)
        return try map { ct_as_strided($0, s, st, Int32(s.count), Int64(offset), $1) }
    }

    /// Broadcasts size-1 dimensions to `shape` without copying (-1 keeps a dimension).
    public func expand(_ shape: [Int]) throws -> Tensor {
        let s = shape.map(Int64.init)
        return try map { ct_expand($0, s, Int32(s.count), $1) }
    }

    public func expand(as other: Tensor) throws -> Tensor { try expand(other.shape) }

    /// Removes `dim` if it has size 1, or every size-1 dimension when `dim` is nil.
    public func squeeze(dim: Int? = nil) throws -> Tensor {
        try map { ct_squeeze($0, Int64(dim ?? 0), dim == nil ? 1 : 0, $1) }
    }

    public func unsqueeze(dim: Int) throws -> Tensor { try map { ct_unsqueeze($0, Int64(dim), $1) } }

    public func flatten(from start: Int = 0, to end: Int = -1) throws -> Tensor {
        try map { ct_flatten($0, Int64(start), Int64(end), $1) }
    }

    /// Elements `start..<end` by `step` along `dim` (a view; negative indices count from the end).
    public func slice(dim: Int, start: Int = 0, end: Int? = nil, step: Int = 1) throws -> Tensor {
        try map { ct_slice($0, Int64(dim), Int64(start), Int64(end ?? Int(Int64.max)), Int64(step), $1) }
    }

    /// `length` elements from `start` along `dim`.
    public func narrow(dim: Int, start: Int, length: Int) throws -> Tensor {
        try slice(dim: dim, start: start, end: start + length)
    }

    /// The sub-tensor at `index` along `dim`, which is removed.
    public func select(dim: Int, index: Int) throws -> Tensor {
        try map { ct_select($0, Int64(dim), Int64(index), $1) }
    }

    public func indexSelect(dim: Int, index: Tensor) throws -> Tensor {
        try map(index) { ct_index_select($0, Int64(dim), $1, $2) }
    }

    public func flip(_ dims: [Int]) throws -> Tensor {
        let d = dims.map(Int64.init)
        return try map { ct_flip($0, d, Int32(d.count), $1) }
    }

    public func roll(shifts: [Int], dims: [Int]) throws -> Tensor {
        guard shifts.count == dims.count else { throw TorchError("roll: \(shifts.count) shifts for \(dims.count) dims") }
        let s = shifts.map(Int64.init), d = dims.map(Int64.init)
        return try map { ct_roll($0, s, d, Int32(d.count), $1) }
    }

    public func repeated(_ repeats: [Int]) throws -> Tensor {
        let r = repeats.map(Int64.init)
        return try map { ct_repeat($0, r, Int32(r.count), $1) }
    }

    /// Sliding windows of `size` with `step` along `dim`, as a new last dimension (PyTorch's `Tensor.unfold`).
    public func unfold(dim: Int, size: Int, step: Int) throws -> Tensor {
        try map { ct_unfold($0, Int64(dim), Int64(size), Int64(step), $1) }
    }

    /// Indexes with integers (dimension removed), ranges (kept), or `.all`, one item per leading dimension.
    public subscript(_ items: TensorIndex...) -> Tensor {
        get throws {
            var t = self
            var dim = 0
            for item in items {
                switch item {
                case .index(let i):
                    t = try t.select(dim: dim, index: i)
                case .range(let lo, let hi, let step):
                    t = try t.slice(dim: dim, start: lo, end: hi, step: step)
                    dim += 1
                case .all:
                    dim += 1
                case .newAxis:
                    t = try t.unsqueeze(dim: dim)
                    dim += 1
                }
            }
            return t
        }
    }

    // MARK: Joining and splitting

    public static func cat(_ tensors: [Tensor], dim: Int = 0) throws -> Tensor { try join(tensors, dim: dim, stack: false) }
    public static func stack(_ tensors: [Tensor], dim: Int = 0) throws -> Tensor { try join(tensors, dim: dim, stack: true) }

    private static func join(_ tensors: [Tensor], dim: Int, stack: Bool) throws -> Tensor {
        guard !tensors.isEmpty else { throw TorchError("\(stack ? "stack" : "cat") needs at least one tensor") }
        let handles = tensors.map(\.handle)
        return try withExtendedLifetime(handles) {
            let raws: [OpaquePointer?] = handles.map(\.raw)
            return try make { ct_cat(raws, Int32(raws.count), Int64(dim), stack ? 1 : 0, $0) }
        }
    }

    /// Pieces of `size` elements along `dim` (the last may be smaller).
    public func split(size: Int, dim: Int = 0) throws -> [Tensor] { try pieces(size, dim: dim, chunks: false) }

    /// `count` nearly equal chunks along `dim`.
    public func chunk(_ count: Int, dim: Int = 0) throws -> [Tensor] { try pieces(count, dim: dim, chunks: true) }

    private func pieces(_ n: Int, dim: Int, chunks: Bool) throws -> [Tensor] {
        guard n > 0 else { throw TorchError("split size/chunk count must be positive, got \(n)") }
        let extent = shape.isEmpty ? 1 : shape[(dim + rank) % Swift.max(rank, 1)]
        let cap = Swift.max(chunks ? n : (extent + n - 1) / n, 1)
        var outs = [OpaquePointer?](repeating: nil, count: cap)
        var got: Int32 = 0
        try run { ct_split($0, Int64(n), Int64(dim), chunks ? 1 : 0, &outs, Int32(cap), &got) }
        return outs.prefix(Int(got)).map { Tensor(owning: $0!) }
    }
}

/// One item of a `tensor[...]` subscript.
public enum TensorIndex: ExpressibleByIntegerLiteral {
    case index(Int)
    case range(Int, Int, step: Int)
    case all
    case newAxis

    public init(integerLiteral value: Int) { self = .index(value) }
    public static func r(_ r: Range<Int>, step: Int = 1) -> TensorIndex { .range(r.lowerBound, r.upperBound, step: step) }
    public static func from(_ lower: Int) -> TensorIndex { .range(lower, Int(Int64.max), step: 1) }
    public static func upTo(_ upper: Int) -> TensorIndex { .range(0, upper, step: 1) }
}
