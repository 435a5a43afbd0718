import CTorch

/// A seedable random-number generator, so that data order and initialisation are reproducible
/// independently of other code drawing random numbers.
public final class Generator: @unchecked Sendable {
    let raw: OpaquePointer
    public let device: Device

    public init(seed: UInt64, device: Device = .cpu) throws {
        var out: OpaquePointer?
        let d = device.code
        try check(ct_generator_new(seed, d.type, d.index, &out))
        guard let out else { throw TorchError("libtorch returned no generator") }
        raw = out
        self.device = device
    }

    deinit { ct_generator_free(raw) }

    /// The full generator state (a uint8 tensor) for checkpoints.
    public var state: Tensor {
        get throws { try Tensor.make { ct_generator_get_state(raw, $0) } }
    }

    public func setState(_ state: Tensor) throws {
        try withExtendedLifetime(state.handle) { try check(ct_generator_set_state(raw, state.handle.raw)) }
    }
}
