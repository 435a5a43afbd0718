import CTorch

/// Element-wise math with PyTorch's broadcasting and type promotion.
extension Tensor {
    @inlinable func unary(_ op: ct_unary_op) throws -> Tensor { try map { ct_unary(op, $0, $1) } }
    @inlinable func binary(_ op: ct_binary_op, _ other: Tensor) throws -> Tensor { try map(other) { ct_binary(op, $0, $1, $2) } }
    @inlinable func binary(_ op: ct_binary_op, _ s: Double) throws -> Tensor { try map { ct_binary_scalar(op, $0, s, $1) } }

    public func adding(_ o: Tensor) throws -> Tensor { try binary(CT_ADD, o) }
    public func subtracting(_ o: Tensor) throws -> Tensor { try binary(CT_SUB, o) }
    public func multiplying(_ o: Tensor) throws -> Tensor { try binary(CT_MUL, o) }
    public func dividing(_ o: Tensor) throws -> Tensor { try binary(CT_DIV, o) }
    public func pow(_ o: Tensor) throws -> Tensor { try binary(CT_POW, o) }
    public func pow(_ e: Double) throws -> Tensor { try binary(CT_POW, e) }
    public func maximum(_ o: Tensor) throws -> Tensor { try binary(CT_MAXIMUM, o) }
    public func minimum(_ o: Tensor) throws -> Tensor { try binary(CT_MINIMUM, o) }
    public func remainder(_ o: Tensor) throws -> Tensor { try binary(CT_REMAINDER, o) }
    public func atan2(_ o: Tensor) throws -> Tensor { try binary(CT_ATAN2, o) }

    public func neg() throws -> Tensor { try unary(CT_NEG) }
    public func abs() throws -> Tensor { try unary(CT_ABS) }
    public func exp() throws -> Tensor { try unary(CT_EXP) }
    public func log() throws -> Tensor { try unary(CT_LOG) }
    public func log1p() throws -> Tensor { try unary(CT_LOG1P) }
    public func expm1() throws -> Tensor { try unary(CT_EXPM1) }
    public func sqrt() throws -> Tensor { try unary(CT_SQRT) }
    public func rsqrt() throws -> Tensor { try unary(CT_RSQRT) }
    public func square() throws -> Tensor { try unary(CT_SQUARE) }
    public func reciprocal() throws -> Tensor { try unary(CT_RECIPROCAL) }
    public func sin() throws -> Tensor { try unary(CT_SIN) }
    public func cos() throws -> Tensor { try unary(CT_COS) }
    public func tanh() throws -> Tensor { try unary(CT_TANH) }
    public func erf() throws -> Tensor { try unary(CT_ERF) }
    public func floor() throws -> Tensor { try unary(CT_FLOOR) }
    public func ceil() throws -> Tensor { try unary(CT_CEIL) }
    public func round() throws -> Tensor { try unary(CT_ROUND) }
    public func sign() throws -> Tensor { try unary(CT_SIGN) }

    // Activations
    public func sigmoid() throws -> Tensor { try unary(CT_SIGMOID) }
    public func logSigmoid() throws -> Tensor { try unary(CT_LOG_SIGMOID) }
    public func relu() throws -> Tensor { try unary(CT_RELU) }
    /// GELU; `approximate: true` is the tanh form.
    public func gelu(approximate: Bool = false) throws -> Tensor { try unary(approximate ? CT_GELU_TANH : CT_GELU) }
    public func silu() throws -> Tensor { try unary(CT_SILU) }
    public func softplus() throws -> Tensor { try unary(CT_SOFTPLUS) }
    public func leakyRelu(slope: Double = 0.01) throws -> Tensor { try map { ct_leaky_relu($0, slope, $1) } }

    // Comparisons (bool tensors)
    public func eq(_ o: Tensor) throws -> Tensor { try binary(CT_EQ, o) }
    public func ne(_ o: Tensor) throws -> Tensor { try binary(CT_NE, o) }
    public func lt(_ o: Tensor) throws -> Tensor { try binary(CT_LT, o) }
    public func le(_ o: Tensor) throws -> Tensor { try binary(CT_LE, o) }
    public func gt(_ o: Tensor) throws -> Tensor { try binary(CT_GT, o) }
    public func ge(_ o: Tensor) throws -> Tensor { try binary(CT_GE, o) }
    public func eq(_ s: Double) throws -> Tensor { try binary(CT_EQ, s) }
    public func ne(_ s: Double) throws -> Tensor { try binary(CT_NE, s) }
    public func lt(_ s: Double) throws -> Tensor { try binary(CT_LT, s) }
    public func le(_ s: Double) throws -> Tensor { try binary(CT_LE, s) }
    public func gt(_ s: Double) throws -> Tensor { try binary(CT_GT, s) }
    public func ge(_ s: Double) throws -> Tensor { try binary(CT_GE, s) }
    public func logicalAnd(_ o: Tensor) throws -> Tensor { try binary(CT_AND, o) }
    public func logicalOr(_ o: Tensor) throws -> Tensor { try binary(CT_OR, o) }
    public func logicalXor(_ o: Tensor) throws -> Tensor { try binary(CT_XOR, o) }
    public func logicalNot() throws -> Tensor { try unary(CT_LOGICAL_NOT) }
    public func isFinite() throws -> Tensor { try unary(CT_ISFINITE) }
    public func isNaN() throws -> Tensor { try unary(CT_ISNAN) }

    /// `condition ? a : b`, element-wise with broadcasting.
    public static func `where`(_ condition: Tensor, _ a: Tensor, _ b: Tensor) throws -> Tensor {
        try withExtendedLifetime((condition.handle, a.handle, b.handle)) {
            try make { ct_where(condition.handle.raw, a.handle.raw, b.handle.raw, $0) }
        }
    }

    public func clamp(min lo: Double? = nil, max hi: Double? = nil) throws -> Tensor {
        try map { ct_clamp($0, lo ?? .nan, hi ?? .nan, $1) }
    }

    public func maskedFill(_ mask: Tensor, _ value: Double) throws -> Tensor {
        try map(mask) { ct_masked_fill($0, $1, value, $2) }
    }

    /// The elements where `mask` is true, as a 1-D tensor.
    public func maskedSelect(_ mask: Tensor) throws -> Tensor { try map(mask) { ct_masked_select($0, $1, $2) } }

    public func gather(dim: Int, index: Tensor) throws -> Tensor { try map(index) { ct_gather($0, Int64(dim), $1, $2) } }

    /// A copy with `source` values written at `index` along `dim` (`accumulate` adds instead).
    public func scatter(dim: Int, index: Tensor, source: Tensor, accumulate: Bool = false) throws -> Tensor {
        try withExtendedLifetime((handle, index.handle, source.handle)) {
            try Tensor.make { ct_scatter(handle.raw, Int64(dim), index.handle.raw, source.handle.raw, 0,
                                    accumulate ? CT_SCATTER_ADD : CT_SCATTER_REPLACE, $0) }
        }
    }

    public func scatter(dim: Int, index: Tensor, value: Double) throws -> Tensor {
        try map(index) { ct_scatter($0, Int64(dim), $1, nil, value, CT_SCATTER_REPLACE, $2) }
    }

    /// One-hot encoding of integer labels; adds a last dimension of size `classes` (int64).
    public func oneHot(classes: Int) throws -> Tensor { try map { ct_one_hot($0, Int64(classes), $1) } }

    public func cumsum(dim: Int) throws -> Tensor { try map { ct_cumsum($0, Int64(dim), $1) } }

    public func sorted(dim: Int = -1, descending: Bool = false) throws -> (values: Tensor, indices: Tensor) {
        var v: OpaquePointer?, i: OpaquePointer?
        try run { ct_sort($0, Int64(dim), descending ? 1 : 0, &v, &i) }
        return (Tensor(owning: v!), Tensor(owning: i!))
    }

    public func topk(_ k: Int, dim: Int = -1, largest: Bool = true) throws -> (values: Tensor, indices: Tensor) {
        var v: OpaquePointer?, i: OpaquePointer?
        try run { ct_topk($0, Int64(k), Int64(dim), largest ? 1 : 0, &v, &i) }
        return (Tensor(owning: v!), Tensor(owning: i!))
    }

    /// Indices of non-zero elements, shape [count, rank].
    public func nonzero() throws -> Tensor { try map { ct_nonzero($0, $1) } }
}

// MARK: - Operators (trap on programmer errors such as incompatible shapes; use the methods to catch them)

extension Tensor {
    public static func + (a: Tensor, b: Tensor) -> Tensor { orTrap { try a.binary(CT_ADD, b) } }
    public static func - (a: Tensor, b: Tensor) -> Tensor { orTrap { try a.binary(CT_SUB, b) } }
    public static func * (a: Tensor, b: Tensor) -> Tensor { orTrap { try a.binary(CT_MUL, b) } }
    public static func / (a: Tensor, b: Tensor) -> Tensor { orTrap { try a.binary(CT_DIV, b) } }
    public static func + (a: Tensor, s: Double) -> Tensor { orTrap { try a.binary(CT_ADD, s) } }
    public static func - (a: Tensor, s: Double) -> Tensor { orTrap { try a.binary(CT_SUB, s) } }
    public static func * (a: Tensor, s: Double) -> Tensor { orTrap { try a.binary(CT_MUL, s) } }
    public static func / (a: Tensor, s: Double) -> Tensor { orTrap { try a.binary(CT_DIV, s) } }
    public static func + (s: Double, a: Tensor) -> Tensor { orTrap { try a.binary(CT_ADD, s) } }
    public static func * (s: Double, a: Tensor) -> Tensor { orTrap { try a.binary(CT_MUL, s) } }
    public static func - (s: Double, a: Tensor) -> Tensor { orTrap { try a.map { ct_scalar_binary(CT_SUB, s, $0, $1) } } }
    public static func / (s: Double, a: Tensor) -> Tensor { orTrap { try a.map { ct_scalar_binary(CT_DIV, s, $0, $1) } } }
    public static prefix func - (a: Tensor) -> Tensor { orTrap { try a.unary(CT_NEG) } }
}

infix operator .== : ComparisonPrecedence
infix operator .!= : ComparisonPrecedence
infix operator .< : ComparisonPrecedence
infix operator .<= : ComparisonPrecedence
infix operator .> : ComparisonPrecedence
infix operator .>= : ComparisonPrecedence

extension Tensor {
    public static func .== (a: Tensor, b: Tensor) -> Tensor { orTrap { try a.eq(b) } }
    public static func .!= (a: Tensor, b: Tensor) -> Tensor { orTrap { try a.ne(b) } }
    public static func .< (a: Tensor, b: Tensor) -> Tensor { orTrap { try a.lt(b) } }
    public static func .<= (a: Tensor, b: Tensor) -> Tensor { orTrap { try a.le(b) } }
    public static func .> (a: Tensor, b: Tensor) -> Tensor { orTrap { try a.gt(b) } }
    public static func .>= (a: Tensor, b: Tensor) -> Tensor { orTrap { try a.ge(b) } }
    public static func .== (a: Tensor, s: Double) -> Tensor { orTrap { try a.eq(s) } }
    public static func .> (a: Tensor, s: Double) -> Tensor { orTrap { try a.gt(s) } }
    public static func .< (a: Tensor, s: Double) -> Tensor { orTrap { try a.lt(s) } }
    public static func .>= (a: Tensor, s: Double) -> Tensor { orTrap { try a.ge(s) } }
    public static func .<= (a: Tensor, s: Double) -> Tensor { orTrap { try a.le(s) } }
}

// MARK: - In place (optimisers, buffers). Run these under `withoutGradients` on parameters.

extension Tensor {
    /// self += alpha * other
    public func addInPlace(_ other: Tensor, alpha: Double = 1) throws {
        try withExtendedLifetime((handle, other.handle)) { try check(ct_inplace_binary(CT_ADD, handle.raw, other.handle.raw, alpha)) }
    }
    public func mulInPlace(_ other: Tensor) throws {
        try withExtendedLifetime((handle, other.handle)) { try check(ct_inplace_binary(CT_MUL, handle.raw, other.handle.raw, 1)) }
    }
    public func addInPlace(_ s: Double) throws { try run { ct_inplace_scalar(CT_ADD, $0, s) } }
    public func mulInPlace(_ s: Double) throws { try run { ct_inplace_scalar(CT_MUL, $0, s) } }
    public func divInPlace(_ s: Double) throws { try run { ct_inplace_scalar(CT_DIV, $0, s) } }
    public func clampInPlace(min lo: Double) throws { try run { ct_inplace_scalar(CT_MAXIMUM, $0, lo) } }
    /// self += value * t1 * t2
    public func addcmulInPlace(_ t1: Tensor, _ t2: Tensor, value: Double = 1) throws {
        try withExtendedLifetime((handle, t1.handle, t2.handle)) { try check(ct_addcmul_(handle.raw, t1.handle.raw, t2.handle.raw, value)) }
    }
    /// self += value * t1 / t2
    public func addcdivInPlace(_ t1: Tensor, _ t2: Tensor, value: Double = 1) throws {
        try withExtendedLifetime((handle, t1.handle, t2.handle)) { try check(ct_addcdiv_(handle.raw, t1.handle.raw, t2.handle.raw, value)) }
    }
    /// self += weight * (end - self)
    public func lerpInPlace(_ end: Tensor, weight: Double) throws {
        try withExtendedLifetime((handle, end.handle)) { try check(ct_lerp_(handle.raw, end.handle.raw, weight)) }
    }
    public func copyInPlace(from source: Tensor) throws {
        try withExtendedLifetime((handle, source.handle)) { try check(ct_copy_(handle.raw, source.handle.raw)) }
    }
    public func fillInPlace(_ value: Double) throws { try run { ct_fill_($0, value) } }
    public func zeroInPlace() throws { try run { ct_zero_($0) } }
    /// `relu_`, returning self: no new buffer. Use on a fresh output (a convolution's, a norm's, a
    /// sum's) that nothing else reads — as PyTorch models use `nn.ReLU(inplace=True)`.
    @discardableResult public func reluInPlace() throws -> Tensor { try run { ct_relu_($0) }; return self }
    /// Replaces the data behind this tensor (which keeps its identity), like PyTorch's `p.data = x`;
    /// this is how a module moves its parameters to another device.
    public func setData(_ data: Tensor) throws {
        try withExtendedLifetime((handle, data.handle)) { try check(ct_set_data(handle.raw, data.handle.raw)) }
    }
}
