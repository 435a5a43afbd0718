import Foundation

/// A problem with what the command line names (a missing or empty folder, an unwritable file):
/// printed as "Error: …" with exit code 1. ArgumentParser's ValidationError would add the usage
/// block and exit 64, which is for malformed arguments, not for files.
struct CommandLineError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }

    /// The names in `folder`, or an error naming `option`, the folder and what was expected.
    static func listFolder(_ folder: String, option: String, holding: String) throws -> [String] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory) else {
            throw CommandLineError("\(option) \(folder): no such folder (expected a folder of \(holding))")
        }
        guard isDirectory.boolValue else { throw CommandLineError("\(option) \(folder): is a file, expected a folder of \(holding)") }
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder) else {
            throw CommandLineError("\(option) \(folder): cannot list the folder (no read permission?)")
        }
        return names.filter { !$0.hasPrefix(".") }.sorted()
    }

    /// Creates `folder` (and its parents) or says why not.
    static func makeFolder(_ folder: String, option: String) throws {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else { throw CommandLineError("\(option) \(folder): is a file, expected a folder") }
            return
        }
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        } catch {
            throw CommandLineError("\(option) \(folder): cannot create the folder (a file in the way, or no write permission?)")
        }
    }
}
