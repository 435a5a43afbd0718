import CTorch

/// A CUDA graph (PyTorch's `torch.cuda.CUDAGraph`): the kernels one piece of work launches, recorded
/// once and replayed in a single launch — what lifts small-batch inference when it is bound by
/// kernel-launch overhead. The work must be static: same shapes, same tensors; copy new inputs into
/// the tensors it was recorded with and read the outputs it returned (replay overwrites them).
/// Needs CUDA and libcontour_cudagraph.so (`make cudagraph`).
public final class CUDAGraph {
    private let handle: ct_cuda_graph
    public private(set) var isCaptured = false

    /// Why CUDA graphs cannot be used here (no CUDA, no plugin, a plugin for another libtorch);
    /// nil when they can.
    public static var unavailableReason: String? {
        let s = String(cString: ct_cuda_graph_status())
        return s.isEmpty ? nil : s
    }

    public init() throws {
        var h: ct_cuda_graph?
        try check(ct_cuda_graph_new(&h))
        handle = h!
    }

    deinit { ct_cuda_graph_free(handle) }

    /// Records `body` on `device` and returns what it returns (tensors replay will rewrite). Run the
    /// work a few times first (warm-up: libraries initialise lazily, which must not happen while
    /// recording). Nothing executes while recording.
    public func capture<R>(on device: Device, _ body: () throws -> R) throws -> R {
        guard case .cuda(let index) = device else { throw TorchError("a CUDA graph records CUDA work, not \(device)") }
        let result = try bracketed(start: ct_cuda_graph_begin(handle, Int32(index)), stop: { _ in ct_cuda_graph_end(handle) }, body)
        isCaptured = true
        return result
    }

    /// Launches the recorded work again (on the current stream).
    public func replay() throws { try check(ct_cuda_graph_replay(handle)) }
}
