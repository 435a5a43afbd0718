import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An exclusive advisory `flock` on `RUN/train.lock`, held while a process trains into RUN, so a
/// second `contour train` into the same folder refuses instead of interleaving checkpoints. The
/// kernel drops the lock when the holder exits in any way (SIGKILL included), so a stale lock
/// cannot outlive its process; the file only records the holder's pid for the refusal message.
public final class RunFolderLock {
    public static let fileName = "train.lock"

    public let path: String
    private var fd: Int32

    /// Takes the lock of `folder` (created if missing); throws naming the holder when it is taken.
    public init(folder: String) throws {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        path = "\(folder)/\(Self.fileName)"
        // O_CLOEXEC: workers started by this process must not inherit (and so keep) the lock.
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw TrainingError("\(path): cannot open the run folder's lock file: \(String(cString: strerror(errno)))") }
        while flock(fd, LOCK_EX | LOCK_NB) != 0 {
            let code = errno
            if code == EINTR { continue }
            let holder = Self.holder(fd)
            close(fd)
            fd = -1
            guard code == EWOULDBLOCK else {
                throw TrainingError("\(path): cannot lock the run folder: \(String(cString: strerror(code)))")
            }
            let who = holder.map { "process \($0)" + (Self.commandLine(of: $0).map { " (\($0))" } ?? "") } ?? "another process"
            throw TrainingError("\(folder) is in use: \(who) is training into it (it holds \(path)); wait for it to finish or stop it"
                                + (holder.map { " (kill \($0))" } ?? "") + ", or train into another folder with --output")
        }
        let pid = Array("\(getpid())\n".utf8)
        _ = ftruncate(fd, 0)
        _ = pid.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
    }

    deinit { release() }

    /// Drops the lock (also done on deinit and, by the kernel, on exit).
    public func release() {
        guard fd >= 0 else { return }
        _ = flock(fd, LOCK_UN)
        close(fd)
        fd = -1
    }

    /// The pid the holder wrote, if readable.
    static func holder(_ fd: Int32) -> Int32? {
        var buffer = [UInt8](repeating: 0, count: 32)
        let n = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, 0) }
        guard n > 0 else { return nil }
        return Int32(String(decoding: buffer.prefix(n), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// `contour train …` of a running process (Linux /proc), for the message.
    static func commandLine(of pid: Int32) -> String? {
        guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline"), !data.isEmpty else { return nil }
        let words = data.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
        guard let first = words.first else { return nil }
        let line = ([URL(fileURLWithPath: first).lastPathComponent] + words.dropFirst()).joined(separator: " ")
        return line.count > 120 ? String(line.prefix(117)) + "…" : line
    }
}
