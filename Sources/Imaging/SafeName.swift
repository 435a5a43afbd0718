/// Names read from users' files (case identifiers, label, landmark and channel names, file
/// endings) that Contour may turn into file names: one with a path separator, `..` or a NUL could
/// write outside the output folder, so it is an error naming where it came from.
public enum SafeName {
    /// Why `name` cannot be part of a file name, or nil when it can.
    public static func problem(_ name: String) -> String? {
        if name.isEmpty { return "is empty" }
        if name.utf8.contains(0) { return "contains a NUL character" }
        if name.contains("/") || name.contains("\\") { return "contains a path separator" }
        if name.contains("..") { return "contains '..'" }
        return nil
    }

    /// Throws `"<source>: <what> "<name>" <problem>"` unless `name` is safe.
    public static func check(_ name: String, _ what: String, in source: String) throws {
        guard let why = problem(name) else { return }
        throw ImagingError("\(source): \(what) \(printable(name)) \(why); names that become file names may not hold '/', '\\\\', '..' or NUL")
    }

    /// The name quoted, with NUL and other control characters shown as escapes.
    static func printable(_ name: String) -> String {
        var out = "\""
        for u in name.unicodeScalars {
            if u.value < 0x20 { out += "\\u{\(String(u.value, radix: 16))}" } else { out.unicodeScalars.append(u) }
        }
        return out + "\""
    }
}
