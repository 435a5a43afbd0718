import Dispatch
#if canImport(Glibc)
import Glibc
#endif

/// Runs a throwing job per case on `jobs` threads (each takes the next case when done); results in
/// case order, the first case's error wins. `progress(done, total)` is called under a lock.
enum ParallelCases {
    static func map<T: Sendable>(_ count: Int, jobs: Int, progress: ((Int, Int) -> Void)?, _ body: @Sendable (Int) throws -> T) throws -> [T] {
        let state = ParallelCasesState<T>(count)
        progress?(0, count)
        DispatchQueue.concurrentPerform(iterations: Swift.max(1, Swift.min(jobs, count))) { _ in
            while true {
                state.lock()
                let i = state.next
                state.next += 1
                state.unlock()
                guard i < count else { return }
                let r = Result { try body(i) }
                state.lock()
                state.results[i] = r
                state.done += 1
                progress?(state.done, count)
                state.unlock()
            }
        }
        return try state.results.map { try $0!.get() }
    }
}

final class ParallelCasesState<T>: @unchecked Sendable {
    var results: [Result<T, Error>?]
    var next = 0, done = 0
    private var mutex = pthread_mutex_t()
    init(_ n: Int) {
        results = Array(repeating: nil, count: n)
        pthread_mutex_init(&mutex, nil)
    }
    deinit { pthread_mutex_destroy(&mutex) }
    func lock() { pthread_mutex_lock(&mutex) }
    func unlock() { pthread_mutex_unlock(&mutex) }
}
