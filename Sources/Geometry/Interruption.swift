#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// SIGINT/SIGTERM as a request to stop at the next safe point: after `install()`, the first signal
/// only sets `requested` (long-running loops — training steps, preprocessing, comparisons — check
/// it and stop cleanly); a second one exits at once with 128 + signal, as an unhandled one would.
/// Lives in the lowest layer so every command's loop can check the same flag.
public enum Interruption {
    /// The first signal received (0: none). Lock-free, so the handler may touch it.
    private static let received = Atomic<Int32>(0)

    /// Whether a stop was requested (by a signal or `request`).
    public static var requested: Bool { received.load(ordering: .relaxed) != 0 }

    /// The signal that requested the stop, if any.
    public static var signal: Int32? {
        let s = received.load(ordering: .relaxed)
        return s == 0 ? nil : s
    }

    /// The shell convention for a process stopped by `signal`: 130 for SIGINT, 143 for SIGTERM.
    public static var exitCode: Int32 { 128 + (signal ?? SIGINT) }

    /// The signal's name, for messages.
    public static var signalName: String {
        switch signal {
        case SIGTERM: return "SIGTERM"
        case SIGINT, nil: return "SIGINT"
        case let s?: return "signal \(s)"
        }
    }

    /// Handles SIGINT and SIGTERM from now on (idempotent).
    public static func install() {
        installHandler(SIGINT, handle)
        installHandler(SIGTERM, handle)
    }

    /// Requests a stop as `signal` would (tests; a caller's own stop button).
    public static func request(_ signal: Int32 = SIGINT) {
        _ = received.compareExchange(expected: 0, desired: signal, ordering: .relaxed)
    }

    /// Forgets a request (tests).
    public static func reset() { received.store(0, ordering: .relaxed) }

    /// Only async-signal-safe calls in here: an atomic exchange, write(2) and _exit.
    private static let handle: @convention(c) (Int32) -> Void = { sig in
        if received.compareExchange(expected: 0, desired: sig, ordering: .relaxed).exchanged {
            let note: StaticString = "\nstopping after the current step (send the signal again to quit at once)\n"
            _ = write(2, note.utf8Start, note.utf8CodeUnitCount)
        } else {
            _exit(128 + sig)
        }
    }
}

/// Outside the enum, whose `signal` property would shadow the C function.
private func installHandler(_ sig: Int32, _ handler: @escaping @convention(c) (Int32) -> Void) {
    _ = signal(sig, handler)
}
