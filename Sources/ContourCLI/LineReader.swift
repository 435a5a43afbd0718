import Foundation

/// Lines from a pipe, buffered.
struct LineReader {
    let handle: FileHandle
    var buffer = Data()
    init(handle: FileHandle) { self.handle = handle }
    mutating func next() -> String? {
        while true {
            if let i = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                let line = String(decoding: buffer[buffer.startIndex..<i], as: UTF8.self)
                buffer.removeSubrange(buffer.startIndex...i)
                return line
            }
            let chunk = handle.availableData
            if chunk.isEmpty { return nil }
            buffer.append(chunk)
        }
    }
}
