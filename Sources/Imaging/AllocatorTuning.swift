#if canImport(Glibc)
import Glibc
#endif

/// Keeps freed heap memory in the process for reuse. glibc serves requests above its mmap
/// threshold (128 KiB at first, raised to the largest freed mapping) with fresh mappings and
/// hands freed top-of-heap memory back above the trim threshold, so the data loader's arrays
/// (0.25–10 MB: coordinate maps, patches, batches) were page-faulted in afresh, zeroed by the
/// kernel, sample after sample. Raising both thresholds lets them reuse memory already mapped:
/// the freed memory stays in the allocator for the next request (bounded by the largest working set).
enum AllocatorTuning {
    /// Applied once per process (the first data loader iterator); a no-op without glibc's `mallopt`.
    static let applied: Bool = {
        #if canImport(Glibc)
        // Not in Swift's Glibc module: looked up at run time.
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "mallopt") else { return false }
        let mallopt = unsafeBitCast(symbol, to: (@convention(c) (Int32, Int32) -> Int32).self)
        // M_MMAP_THRESHOLD (−3): 32 MiB, glibc's maximum; M_TRIM_THRESHOLD (−1): 64 MiB.
        return mallopt(-3, 32 << 20) == 1 && mallopt(-1, 64 << 20) == 1
        #else
        return false
        #endif
    }()
}
