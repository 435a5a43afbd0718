import CTorch

/// Owns one libtorch tensor handle; freed exactly once when the last `Tensor` sharing it goes.
@usableFromInline
final class TensorHandle: @unchecked Sendable {
    @usableFromInline let raw: OpaquePointer
    @usableFromInline init(_ raw: OpaquePointer) { self.raw = raw }
    deinit { ct_free(raw) }
}

/// An n-dimensional array on a device, with autograd.
///
/// Like `torch.Tensor`, copies of a `Tensor` refer to the same data (in-place updates by an
/// optimiser are seen by the model that holds the parameter). Operations return new tensors.
/// Every call into libtorch happens inside a method that keeps its operands alive, so no raw
/// handle ever outlives its owner.
public struct Tensor: @unchecked Sendable {
    @usableFromInline let handle: TensorHandle

    @usableFromInline init(owning raw: OpaquePointer) { handle = TensorHandle(raw) }

    /// Runs a C call that produces one tensor.
    @inlinable
    static func make(_ body: (UnsafeMutablePointer<OpaquePointer?>) -> ct_status) throws -> Tensor {
        var out: OpaquePointer?
        let status = body(&out)
        if status != 0 { throw TorchError(String(cString: ct_last_error())) }
        guard let out else { throw TorchError("libtorch returned no tensor") }
        return Tensor(owning: out)
    }

    /// Runs a C call on this tensor that produces one tensor, keeping `self` alive throughout.
    @inlinable
    func map(_ body: (OpaquePointer, UnsafeMutablePointer<OpaquePointer?>) -> ct_status) throws -> Tensor {
        try withExtendedLifetime(handle) { try Tensor.make { body(handle.raw, $0) } }
    }

    /// Same, with a second operand.
    @inlinable
    func map(_ other: Tensor, _ body: (OpaquePointer, OpaquePointer, UnsafeMutablePointer<OpaquePointer?>) -> ct_status) throws -> Tensor {
        try withExtendedLifetime((handle, other.handle)) { try Tensor.make { body(handle.raw, other.handle.raw, $0) } }
    }

    /// Runs a status-only C call on this tensor.
    @inlinable
    func run(_ body: (OpaquePointer) -> ct_status) throws {
        try withExtendedLifetime(handle) { try check(body(handle.raw)) }
    }

    // MARK: Metadata

    // These cannot fail on a Tensor (see `metadataFailure`); none returns a made-up value.

    public var rank: Int {
        withExtendedLifetime(handle) {
            let n = ct_ndim(handle.raw)
            if n < 0 { metadataFailure("rank") }
            return Int(n)
        }
    }

    public var shape: [Int] { sizes(ct_shape, "shape") }
    public var strides: [Int] { sizes(ct_strides, "strides") }

    private func sizes(_ query: (OpaquePointer?, UnsafeMutablePointer<Int64>?) -> ct_status, _ what: String) -> [Int] {
        withExtendedLifetime(handle) {
            let n = ct_ndim(handle.raw)
            if n < 0 { metadataFailure(what) }
            var s = [Int64](repeating: 0, count: Int(n))
            if query(handle.raw, &s) != 0 { metadataFailure(what) }
            return s.map(Int.init)
        }
    }

    public var count: Int {
        withExtendedLifetime(handle) {
            let n = ct_numel(handle.raw)
            if n < 0 { metadataFailure("count") }
            return Int(n)
        }
    }

    public var dtype: DType {
        withExtendedLifetime(handle) {
            let code = ct_dtype(handle.raw)
            if code < 0 { metadataFailure("dtype") }
            // The shim only hands out tensors of supported dtypes, so this cannot fail either.
            do { return try DType(code: code) } catch { preconditionFailure("dtype: \(error)") }
        }
    }

    public var device: Device {
        withExtendedLifetime(handle) {
            var type = CT_DEVICE_CPU, index: Int32 = 0
            if ct_device(handle.raw, &type, &index) != 0 { metadataFailure("device") }
            do { return try Device(type: type, index: index) } catch { preconditionFailure("device: \(error)") }
        }
    }

    public var isContiguous: Bool { flag(ct_is_contiguous, "isContiguous") }

    @usableFromInline
    func flag(_ query: (OpaquePointer?) -> Int32, _ what: String) -> Bool {
        withExtendedLifetime(handle) {
            let v = query(handle.raw)
            if v < 0 { metadataFailure(what) }
            return v != 0
        }
    }

    /// Whether `other` is the very same tensor (same autograd identity), not just equal values.
    public func isSameTensor(as other: Tensor) -> Bool {
        withExtendedLifetime((handle, other.handle)) {
            let v = ct_same(handle.raw, other.handle.raw)
            if v < 0 { metadataFailure("isSameTensor") }
            return v != 0
        }
    }

    // MARK: Creation

    /// A tensor holding a copy of `values` with the given shape (row-major).
    public init<T: TensorScalar>(_ values: [T], shape: [Int]? = nil, device: Device = .cpu) throws {
        let shape = shape ?? [values.count]
        guard shape.reduce(1, *) == values.count, shape.allSatisfy({ $0 >= 0 }) else {
            throw TorchError("shape \(shape) needs \(shape.reduce(1, *)) values, got \(values.count)")
        }
        let dims = shape.map(Int64.init)
        var t = try values.withUnsafeBytes { raw in
            try Tensor.make { ct_from_data(raw.baseAddress, raw.count, dims, Int32(dims.count), T.dtype.ct, $0) }
        }
        if device != .cpu { t = try t.to(device) }
        self = t
    }

    /// A 0-dimensional tensor.
    public init<T: TensorScalar>(scalar value: T, device: Device = .cpu) throws {
        try self.init([value], shape: [], device: device)
    }

    /// A tensor made from raw little-endian bytes of `dtype` (e.g. safetensors or `.npy` payloads).
    public init(bytes: [UInt8], shape: [Int], dtype: DType) throws {
        let dims = shape.map(Int64.init)
        self = try bytes.withUnsafeBytes { raw in
            try Tensor.make { ct_from_data(raw.baseAddress, raw.count, dims, Int32(dims.count), dtype.ct, $0) }
        }
    }

    public static func full(_ shape: [Int], _ value: Double, dtype: DType = .float32, device: Device = .cpu) throws -> Tensor {
        let d = device.code
        return try full(shape, value, dtypeCode: dtype.rawValue, deviceType: Int32(d.type.rawValue), deviceIndex: d.index)
    }

    /// The lowest wrapper, with raw shim codes (tests use it to check that the shim rejects bad codes).
    static func full(_ shape: [Int], _ value: Double, dtypeCode: Int32, deviceType: Int32, deviceIndex: Int32) throws -> Tensor {
        let dims = shape.map(Int64.init)
        return try make {
            ct_full(dims, Int32(dims.count), value, ct_scalar_type(rawValue: UInt32(bitPattern: dtypeCode)),
                    ct_device_type(rawValue: UInt32(bitPattern: deviceType)), deviceIndex, $0)
        }
    }

    public static func zeros(_ shape: [Int], dtype: DType = .float32, device: Device = .cpu) throws -> Tensor {
        try full(shape, 0, dtype: dtype, device: device)
    }

    public static func ones(_ shape: [Int], dtype: DType = .float32, device: Device = .cpu) throws -> Tensor {
        try full(shape, 1, dtype: dtype, device: device)
    }

    public static func zeros(like t: Tensor) throws -> Tensor { try zeros(t.shape, dtype: t.dtype, device: t.device) }
    public static func ones(like t: Tensor) throws -> Tensor { try ones(t.shape, dtype: t.dtype, device: t.device) }

    /// Values `start, start+step, …` below `end` (PyTorch's `arange`); int64 unless a dtype is given.
    public static func arange(_ start: Double = 0, _ end: Double, step: Double = 1, dtype: DType = .int64,
                              device: Device = .cpu) throws -> Tensor {
        let d = device.code
        return try make { ct_arange(start, end, step, dtype.ct, d.type, d.index, $0) }
    }

    public static func linspace(_ start: Double, _ end: Double, count: Int, dtype: DType = .float32,
                                device: Device = .cpu) throws -> Tensor {
        let d = device.code
        return try make { ct_linspace(start, end, Int64(count), dtype.ct, d.type, d.index, $0) }
    }

    public static func eye(_ n: Int, dtype: DType = .float32, device: Device = .cpu) throws -> Tensor {
        let d = device.code
        return try make { ct_eye(Int64(n), dtype.ct, d.type, d.index, $0) }
    }

    // MARK: Random (seedable)

    private static func random(_ kind: ct_random_kind, _ shape: [Int], low: Double = 0, high: Double = 1, dtype: DType,
                               device: Device, generator: Generator?) throws -> Tensor {
        let dims = shape.map(Int64.init), d = device.code
        return try withExtendedLifetime(generator) {
            try make { ct_random(kind, dims, Int32(dims.count), low, high, dtype.ct, d.type, d.index, generator?.raw, $0) }
        }
    }

    /// Uniform on [0, 1).
    public static func rand(_ shape: [Int], dtype: DType = .float32, device: Device = .cpu,
                            generator: Generator? = nil) throws -> Tensor {
        try random(CT_RANDOM_UNIFORM, shape, dtype: dtype, device: device, generator: generator)
    }

    /// Standard normal.
    public static func randn(_ shape: [Int], dtype: DType = .float32, device: Device = .cpu,
                             generator: Generator? = nil) throws -> Tensor {
        try random(CT_RANDOM_NORMAL, shape, dtype: dtype, device: device, generator: generator)
    }

    /// Integers uniform in [low, high).
    public static func randint(_ low: Int, _ high: Int, _ shape: [Int], dtype: DType = .int64, device: Device = .cpu,
                               generator: Generator? = nil) throws -> Tensor {
        try random(CT_RANDOM_INTEGERS, shape, low: Double(low), high: Double(high), dtype: dtype, device: device, generator: generator)
    }

    // MARK: Element access

    /// The elements, converted to `T`, in row-major order (copied to the CPU).
    public func toArray<T: TensorScalar>(_ type: T.Type = T.self) throws -> [T] {
        let n = count
        var out = [T](unsafeUninitializedCapacity: n) { _, initialized in initialized = n }
        try out.withUnsafeMutableBytes { raw in
            try run { ct_copy_data($0, T.dtype.ct, raw.baseAddress, raw.count) }
        }
        return out
    }

    public func floats() throws -> [Float] { try toArray(Float.self) }
    public func doubles() throws -> [Double] { try toArray(Double.self) }
    public func ints() throws -> [Int] { try toArray(Int64.self).map(Int.init) }

    /// The raw bytes of the elements in this tensor's own dtype, C order.
    public func rawBytes() throws -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count * dtype.byteCount)
        let code = dtype.ct
        try out.withUnsafeMutableBytes { raw in try run { ct_copy_data($0, code, raw.baseAddress, raw.count) } }
        return out
    }

    /// The value of a one-element tensor.
    public func item() throws -> Double {
        var v = 0.0
        try run { ct_item($0, &v) }
        return v
    }

    /// The element at a full index, as a Double (for tests and small lookups).
    public func item(at index: [Int]) throws -> Double {
        var t = self
        for i in index { t = try t.select(dim: 0, index: i) }
        return try t.item()
    }

    // MARK: Conversion

    public func to(_ device: Device, dtype: DType? = nil, copy: Bool = false) throws -> Tensor {
        let d = device.code, code = (dtype ?? self.dtype).ct
        return try map { ct_to($0, code, d.type, d.index, copy ? 1 : 0, $1) }
    }

    public func to(_ dtype: DType) throws -> Tensor { try to(device, dtype: dtype) }

    public func contiguous() throws -> Tensor { try map { ct_contiguous($0, $1) } }
    public func clone() throws -> Tensor { try map { ct_clone($0, $1) } }
}

extension Tensor: CustomStringConvertible {
    public var description: String {
        var s = "Tensor(shape: \(shape), dtype: \(dtype), device: \(device)"
        if count <= 16, let v = try? doubles() { s += ", values: \(v)" }
        return s + ")"
    }
}
