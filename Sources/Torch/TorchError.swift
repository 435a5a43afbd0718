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

/// Operator sugar cannot throw: a failure there is a programmer error (e.g. adding tensors of
/// incompatible shapes) and stops the program with libtorch's message.
@inline(__always)
func orTrap<T>(_ body: () throws -> T, file: StaticString = #file, line: UInt = #line) -> T {
    do { return try body() } catch { preconditionFailure("\(error)", file: file, line: line) }
}
