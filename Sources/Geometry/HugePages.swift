#if canImport(Glibc)
import Glibc
#endif

/// Asks the kernel to back the 2 MiB-aligned interior of a large fresh buffer with huge pages
/// (as numpy does for its arrays): first-touch faults on 4 KiB pages cost a fifth of a labelling.
func adviseHugePages<T>(_ p: UnsafeMutablePointer<T>, _ count: Int) {
    #if os(Linux)
    let huge = 1 << 21
    let lo = (Int(bitPattern: p) + huge - 1) & ~(huge - 1)
    let hi = (Int(bitPattern: p) + count * MemoryLayout<T>.stride) & ~(huge - 1)
    if hi > lo { _ = madvise(UnsafeMutableRawPointer(bitPattern: lo), hi - lo, MADV_HUGEPAGE) }
    #endif
}
