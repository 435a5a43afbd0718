#if canImport(Glibc)
import Glibc
#endif

/// The few file operations Imaging needs, without Foundation.
enum FileSystem {
    static func rename(_ from: String, to: String) throws {
        guard Glibc.rename(from, to) == 0 else {
            let why = String(cString: strerror(errno))
            remove(from)
            throw ImagingError("cannot move \(from) to \(to): \(why)")
        }
    }

    static func remove(_ path: String) { unlink(path) }

    static func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }

    static func isDirectory(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
    }

    static func makeDirectory(_ path: String) throws {
        var current = path.hasPrefix("/") ? "" : "."
        for part in path.split(separator: "/") {
            current += "/" + part
            if !isDirectory(current) && mkdir(current, 0o755) != 0 && errno != EEXIST {
                throw ImagingError("cannot create folder \(current): \(String(cString: strerror(errno)))")
            }
        }
    }

    /// Names in a folder (no "." or ".."), sorted.
    static func list(_ path: String) throws -> [String] {
        guard let dir = opendir(path) else { throw ImagingError("cannot list \(path): \(String(cString: strerror(errno)))") }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }

    static func read(_ path: String) throws -> [UInt8] {
        guard let f = fopen(path, "rb") else { throw ImagingError("cannot read \(path): \(String(cString: strerror(errno)))") }
        defer { fclose(f) }
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = chunk.withUnsafeMutableBytes { fread($0.baseAddress, 1, $0.count, f) }
            if n > 0 { out += chunk.prefix(n) }
            if n < chunk.count { break }
        }
        if ferror(f) != 0 { throw ImagingError("cannot read \(path): read error") }
        return out
    }

    /// Writes via a temporary file and rename, so a reader never sees a partial file.
    static func writeAtomically(_ bytes: [UInt8], to path: String) throws {
        let tmp = "\(path).tmp-\(UInt32.random(in: 0...UInt32.max))"
        guard let f = fopen(tmp, "wb") else { throw ImagingError("cannot write \(path): \(String(cString: strerror(errno)))") }
        let n = bytes.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, f) }
        let flushed = fflush(f) == 0 && fsync(fileno(f)) == 0
        fclose(f)
        guard n == bytes.count, flushed else {
            remove(tmp)
            throw ImagingError("cannot write \(path): \(String(cString: strerror(errno)))")
        }
        try rename(tmp, to: path)
    }
}
