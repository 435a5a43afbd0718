import CTorch

/// An error reported by libtorch (shape mismatch, bad argument, unavailable device, …) or by
/// Contour's Torch layer; `message` is libtorch's own text without the C++ backtrace.
public struct TorchError: Error, CustomStringConvertible, Equatable {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

@usableFromInline @inline(__always)
func check(_ status: ct_status) throws {
    if status != 0 { throw TorchError(String(cString: ct_last_error())) }
}

/// Runs `body` between a shim call that starts something (a recording) and one that stops it
/// (`stop(completed)`); if `body` throws, stops without checking (its error is the one to report).
func bracketed<R>(start: ct_status, stop: (_ completed: Bool) -> ct_status, _ body: () throws -> R) throws -> R {
    try check(start)
    let result: R
    do {
        result = try body()
    } catch {
        _ = stop(false)
        throw error
    }
    try check(stop(true))
    return result
}

/// Metadata reads (rank, shape, dtype, device, …) do not throw: every `Tensor` holds a defined
/// tensor of a supported dtype, because the shim checks each tensor it hands out. A failure
/// there is a bug in Contour, so it stops with libtorch's message instead of inventing a value.
@usableFromInline
func metadataFailure(_ what: String, file: StaticString = #file, line: UInt = #line) -> Never {
    preconditionFailure("\(what) failed: \(String(cString: ct_last_error()))", file: file, line: line)
}

/// Operator sugar cannot throw: a failure there is a programmer error (e.g. adding tensors of
/// incompatible shapes) and stops the program with libtorch's message.
@inline(__always)
func orTrap<T>(_ body: () throws -> T, file: StaticString = #file, line: UInt = #line) -> T {
    do { return try body() } catch { preconditionFailure("\(error)", file: file, line: line) }
}
