import CTorch

/// libtorch's op-level profiler (`torch.profiler` on the C++ side): time spent in each op and
/// autograd node, written as a Chrome trace that chrome://tracing, Perfetto or TensorBoard's
/// profiler plugin open, and that `ProfileSummary` tables.
public enum Profiler {
    /// Records `body`'s ops and writes the trace to `tracePath`; returns what `body` returns.
    public static func record<R>(to tracePath: String, shapes: Bool = false, _ body: () throws -> R) throws -> R {
        try bracketed(start: ct_profiler_start(shapes ? 1 : 0), stop: { ct_profiler_stop($0 ? tracePath : nil) }, body)
    }
}
