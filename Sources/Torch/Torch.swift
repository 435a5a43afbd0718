import CTorch

/// Library-wide settings of libtorch.
public enum Torch {
    /// libtorch's version, e.g. "2.11.0".
    public static var version: String { String(cString: ct_torch_version()) }

    /// Intra-op threads used by CPU kernels.
    public static var threads: Int {
        let n = ct_get_num_threads()
        if n < 0 { metadataFailure("Torch.threads") }
        return Int(n)
    }

    public static func setThreads(_ n: Int) throws {
        guard n >= 1 else { throw TorchError("thread count must be ≥ 1, got \(n)") }
        try check(ct_set_num_threads(Int32(n)))
    }

    /// Seeds the default generators (CPU and every CUDA device).
    public static func manualSeed(_ seed: UInt64) throws { try check(ct_manual_seed(seed)) }

    /// The default CPU generator's state (dropout, initialisation, `rand` without a generator),
    /// for checkpoints; `setDefaultGeneratorState` restores it.
    public static func defaultGeneratorState() throws -> Tensor { try Tensor.make { ct_default_cpu_generator_get_state($0) } }

    public static func setDefaultGeneratorState(_ state: Tensor) throws {
        try withExtendedLifetime(state.handle) { try check(ct_default_cpu_generator_set_state(state.handle.raw)) }
    }

    /// Makes libtorch use deterministic algorithms only (errors where none exists).
    public static func setDeterministic(_ enabled: Bool) throws { try check(ct_set_deterministic(enabled ? 1 : 0)) }

    /// Whether autograd records operations on this thread.
    public static var isGradEnabled: Bool {
        let v = ct_is_grad_enabled()
        if v < 0 { metadataFailure("Torch.isGradEnabled") }
        return v != 0
    }

    /// Waits for queued CUDA work (no-op without CUDA); use before reading timers.
    public static func synchronize() throws { try check(ct_cuda_synchronize()) }
}

/// Runs `body` with autograd recording disabled on this thread, restoring the previous mode.
/// The closure is synchronous: grad mode is per thread, as in PyTorch.
public func withoutGradients<R>(_ body: () throws -> R) rethrows -> R {
    let previous = setGradEnabled(false)
    defer { _ = setGradEnabled(previous) }
    return try body()
}

/// Runs `body` under automatic mixed precision for `device`'s type (PyTorch's `torch.autocast`):
/// matrix multiplications and convolutions run in `dtype` (bfloat16 or float16), numerically
/// sensitive ops stay in float32. The closure is synchronous: autocast state is per thread.
public func withAutocast<R>(device: Device, dtype: DType = .bfloat16, _ body: () throws -> R) throws -> R {
    guard dtype == .bfloat16 || dtype == .float16 else { throw TorchError("autocast dtype must be bfloat16 or float16, got \(dtype)") }
    var enabled: Int32 = 0, previous = CT_FLOAT32
    let type = device.code.type
    try check(ct_autocast_enter(type, dtype.ct, &enabled, &previous))
    defer { _ = ct_autocast_exit(type, enabled, previous) }
    return try body()
}

/// Sets grad mode on this thread and returns the previous one.
private func setGradEnabled(_ on: Bool) -> Bool {
    let previous = ct_set_grad_enabled(on ? 1 : 0)
    if previous < 0 { metadataFailure("setting grad mode") }
    return previous != 0
}

/// Runs `body` with autograd recording enabled (inside a `withoutGradients` block, say).
public func withGradients<R>(_ body: () throws -> R) rethrows -> R {
    let previous = setGradEnabled(true)
    defer { _ = setGradEnabled(previous) }
    return try body()
}

extension Torch {
    /// Seconds libtorch itself takes for `n` adds of 1-element tensors, timed in C++
    /// (the reference for the binding's per-op overhead).
    public static func nativeAddLoopSeconds(_ n: Int) throws -> Double {
        var s = 0.0
        try check(ct_bench_add_loop(Int64(n), &s))
        return s
    }
}
