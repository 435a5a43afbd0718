import CTorch

/// A TorchScript module (a `torch.jit.save` / `torch.jit.script(...).save(...)` file) run through
/// libtorch's JIT in eval mode and without gradients — a user-supplied model, such as the
/// promptable segmenter of `contour pseudo-label`, with no Python at run time.
public final class ScriptModule: @unchecked Sendable {
    let raw: OpaquePointer
    public let path: String
    public let device: Device

    /// Loads `path` onto `device`; libtorch's message (missing file, not a TorchScript archive,
    /// unsupported version) becomes the error, prefixed with the path.
    public init(path: String, device: Device = .cpu) throws {
        var out: OpaquePointer?
        let code = device.code
        let status = path.withCString { ct_jit_load($0, Int32(code.type.rawValue), code.index, &out) }
        guard status == 0, let out else {
            throw TorchError("\(path): cannot load as a TorchScript module: \(String(cString: ct_last_error()))")
        }
        raw = out
        self.path = path
        self.device = device
    }

    deinit { ct_jit_free(raw) }

    /// How many arguments `forward` declares (besides self), defaults included.
    public func forwardArgumentCount() throws -> Int {
        let n = ct_jit_forward_arguments(raw)
        if n < 0 { throw TorchError("\(path): \(String(cString: ct_last_error()))") }
        return Int(n)
    }

    /// `forward(inputs…)`; nil inputs are passed as None. Returns the tensor result (or the first
    /// element of a tuple/list result).
    public func forward(_ inputs: [Tensor?]) throws -> Tensor {
        let handles = inputs.map { $0?.handle }
        return try withExtendedLifetime(handles) {
            let raws: [OpaquePointer?] = handles.map { $0?.raw }
            var out: OpaquePointer?
            let status = raws.withUnsafeBufferPointer { ct_jit_forward(raw, $0.baseAddress, Int32(raws.count), &out) }
            guard status == 0, let out else { throw TorchError("\(path): forward failed: \(String(cString: ct_last_error()))") }
            return Tensor(owning: out)
        }
    }
}
