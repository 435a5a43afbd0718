import CTorch

/// Reductions over all or some dimensions (negative dims count from the end).
extension Tensor {
    @inlinable func reduce(_ op: ct_reduce_op, _ dims: [Int], _ keepDim: Bool) throws -> Tensor {
        let d = dims.map(Int64.init)
        return try map { ct_reduce(op, $0, d, Int32(d.count), keepDim ? 1 : 0, $1) }
    }

    public func sum(dims: [Int] = [], keepDim: Bool = false) throws -> Tensor { try reduce(CT_SUM, dims, keepDim) }
    public func mean(dims: [Int] = [], keepDim: Bool = false) throws -> Tensor { try reduce(CT_MEAN, dims, keepDim) }
    public func prod(dims: [Int] = [], keepDim: Bool = false) throws -> Tensor { try reduce(CT_PROD, dims, keepDim) }
    /// Largest value over `dims` (all when empty).
    public func max(dims: [Int] = [], keepDim: Bool = false) throws -> Tensor { try reduce(CT_AMAX, dims, keepDim) }
    public func min(dims: [Int] = [], keepDim: Bool = false) throws -> Tensor { try reduce(CT_AMIN, dims, keepDim) }
    /// Sample standard deviation (Bessel-corrected, PyTorch's default).
    public func std(dims: [Int] = [], keepDim: Bool = false) throws -> Tensor { try reduce(CT_STD, dims, keepDim) }
    public func variance(dims: [Int] = [], keepDim: Bool = false) throws -> Tensor { try reduce(CT_VAR, dims, keepDim) }
    public func logsumexp(dims: [Int] = [], keepDim: Bool = false) throws -> Tensor { try reduce(CT_LOGSUMEXP, dims, keepDim) }
    public func all(dims: [Int] = [], keepDim: Bool = false) throws -> Tensor { try reduce(CT_ALL, dims, keepDim) }
    public func any(dims: [Int] = [], keepDim: Bool = false) throws -> Tensor { try reduce(CT_ANY, dims, keepDim) }

    /// Max values and their indices along `dim`.
    public func max(dim: Int, keepDim: Bool = false) throws -> (values: Tensor, indices: Tensor) {
        try indexed(CT_INDEX_MAX, dim, keepDim)
    }

    public func min(dim: Int, keepDim: Bool = false) throws -> (values: Tensor, indices: Tensor) {
        try indexed(CT_INDEX_MIN, dim, keepDim)
    }

    public func argmax(dim: Int, keepDim: Bool = false) throws -> Tensor {
        try indices(CT_INDEX_ARGMAX, dim, keepDim)
    }

    public func argmin(dim: Int, keepDim: Bool = false) throws -> Tensor {
        try indices(CT_INDEX_ARGMIN, dim, keepDim)
    }

    private func indices(_ kind: ct_index_reduction, _ dim: Int, _ keepDim: Bool) throws -> Tensor {
        var i: OpaquePointer?
        try run { ct_reduce_index(kind, $0, Int64(dim), keepDim ? 1 : 0, nil, &i) }
        return Tensor(owning: i!)
    }

    private func indexed(_ kind: ct_index_reduction, _ dim: Int, _ keepDim: Bool) throws -> (values: Tensor, indices: Tensor) {
        var v: OpaquePointer?, i: OpaquePointer?
        try run { ct_reduce_index(kind, $0, Int64(dim), keepDim ? 1 : 0, &v, &i) }
        return (Tensor(owning: v!), Tensor(owning: i!))
    }

    /// The p-norm over `dims` (all when empty); `p = .infinity` is the max-abs norm.
    public func norm(p: Double = 2, dims: [Int] = [], keepDim: Bool = false) throws -> Tensor {
        let d = dims.map(Int64.init)
        return try map { ct_vector_norm($0, p, d, Int32(d.count), keepDim ? 1 : 0, $1) }
    }
}
