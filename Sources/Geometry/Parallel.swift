import Dispatch

/// Splits `0..<count` into contiguous chunks run concurrently on the cores.
public enum Parallel {
    /// Calls `body` on disjoint ranges that cover `0..<count`. Work below `grain` items per chunk
    /// is not split further, so small inputs stay on the calling thread.
    public static func forRanges(_ count: Int, grain: Int = 1, _ body: (Range<Int>) -> Void) {
        guard count > 0 else { return }
        let chunks = min(64, max(1, count / max(1, grain)))
        if chunks == 1 { body(0..<count); return }
        DispatchQueue.concurrentPerform(iterations: chunks) { c in
            let lo = count * c / chunks, hi = count * (c + 1) / chunks
            if lo < hi { body(lo..<hi) }
        }
    }
}

/// A raw pointer that may be captured by concurrent closures writing disjoint elements.
@usableFromInline struct SharedPointer<T>: @unchecked Sendable {
    @usableFromInline let base: UnsafeMutablePointer<T>
    @usableFromInline init(_ base: UnsafeMutablePointer<T>) { self.base = base }
    @inlinable subscript(i: Int) -> T {
        get { base[i] }
        nonmutating set { base[i] = newValue }
    }
}
