// Fuzz targets for every reader a user's file reaches. Two builds of one program:
//  - `make fuzz` builds it with -sanitize=fuzzer,address and -DFUZZING: `contour-fuzz TARGET [libFuzzer flags] CORPUS…`
//    hands TARGET to libFuzzer (LLVMFuzzerRunDriver);
//  - the ordinary build replays files: `contour-fuzz TARGET FILE…` runs each once (a crash input, by hand).
// A reader may throw on any input (that is the point); it must not crash, hang or allocate what a header claims.
#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Geometry
import Imaging
import Torch
import Training
import ZIPFoundation

/// One reader: the file extension it is reached by, and how the bytes are handed to it.
struct FuzzTarget {
    var run: ([UInt8]) throws -> Void
}

/// Each input goes to a file in a private folder, for the readers that take paths (as users' files do).
let scratch: String = {
    let base = FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory()
    let dir = "\(base)/contour-fuzz-\(getpid())"
    try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    return dir
}()

func file<Bytes: DataProtocol>(_ bytes: Bytes, named name: String) throws -> String {
    let path = "\(scratch)/\(name)"
    try Data(bytes).write(to: URL(fileURLWithPath: path))
    return path
}

/// The bytes as `archive/data.pkl` of an otherwise valid torch.save zip (with a 256-byte storage `data/0`),
/// so that mutations reach the pickle rather than the zip's CRC check. Built in memory, then read from a file.
func pthArchive(pickle: [UInt8]) throws -> Data {
    let archive = try Archive(accessMode: .create)
    func add(_ name: String, _ bytes: [UInt8]) throws {
        try archive.addEntry(with: name, type: .file, uncompressedSize: Int64(bytes.count), provider: { position, size in
            Data(bytes[Int(position)..<(Int(position) + size)])
        })
    }
    try add("archive/data.pkl", pickle)
    try add("archive/byteorder", Array("little".utf8))
    try add("archive/data/0", [UInt8](repeating: 0x3f, count: 256))
    return archive.data!
}

let targets: [String: FuzzTarget] = [
    "png": FuzzTarget { _ = try ImageFile.read(try file($0, named: "input.png")) },
    "jpeg": FuzzTarget { _ = try ImageFile.read(try file($0, named: "input.jpg")) },
    "tiff": FuzzTarget { _ = try ImageFile.read(try file($0, named: "input.tif")) },
    "nifti": FuzzTarget { _ = try ImageFile.read(try file($0, named: "input.nii")) },
    "nifti-gz": FuzzTarget { _ = try ImageFile.read(try file($0, named: "input.nii.gz")) },
    // As an image (Imaging) and as a tensor (Torch's loader for `contour loss`, `models`, …).
    "npy": FuzzTarget { bytes in
        let path = try file(bytes, named: "input.npy")
        defer { _ = try? Tensor.loadNPY(path) }
        _ = try ImageFile.read(path)
    },
    "safetensors": FuzzTarget { _ = try Safetensors.decode($0, name: "input.safetensors") },
    // Through a file, as users' files come: ZIPFoundation's in-memory archive (Archive(data:)) traps on an
    // entry offset past the end (found by this target), so the reader does not offer it.
    "pth": FuzzTarget { _ = try PyTorchCheckpoint.load(try file($0, named: "input.pth")) },
    "pickle": FuzzTarget { _ = try PyTorchCheckpoint.load(try file(try pthArchive(pickle: $0), named: "pickle.pth")) },
    "dataset": FuzzTarget { _ = try DatasetDescription.read(path: try file($0, named: "dataset.json")) },
    "landmarks": FuzzTarget { bytes in
        let path = try file(bytes, named: "landmarks.json")
        _ = try? Landmarks.read(path: path, rank: 2)
        _ = try Landmarks.read(path: path, rank: 3)
    },
    "config": FuzzTarget { _ = try ExperimentConfig.load(yaml: String(decoding: $0, as: UTF8.self), name: "input.yaml") },
]

nonisolated(unsafe) var selected: FuzzTarget? = nil

func runOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    do { try selected!.run(bytes) } catch {}
    return 0
}

#if FUZZING
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(_ argc: UnsafeMutablePointer<Int32>,
                         _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
                         _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32) -> Int32
#endif

let arguments = CommandLine.arguments
guard arguments.count >= 2, let target = targets[arguments[1]] else {
    print("usage: contour-fuzz TARGET [libFuzzer flags | files…]\ntargets: \(targets.keys.sorted().joined(separator: ", "))")
    exit(2)
}
selected = target
defer { try? FileManager.default.removeItem(atPath: scratch) }

#if FUZZING
// libFuzzer sees argv without the target name.
var argv: [UnsafeMutablePointer<CChar>?] = ([arguments[0]] + arguments.dropFirst(2)).map { strdup($0) } + [nil]
var argc = Int32(argv.count - 1)
let status = argv.withUnsafeMutableBufferPointer { buffer -> Int32 in
    var base = buffer.baseAddress
    return LLVMFuzzerRunDriver(&argc, &base, { runOne($0, $1) })
}
try? FileManager.default.removeItem(atPath: scratch)
exit(status)
#else
var failures = 0
for path in arguments.dropFirst(2) {
    guard let bytes = FileManager.default.contents(atPath: path) else { print("\(path): cannot read"); failures += 1; continue }
    do { try target.run(Array(bytes)); print("\(path): read") } catch { print("\(path): \(error)") }
}
try? FileManager.default.removeItem(atPath: scratch)
exit(failures == 0 ? 0 : 1)
#endif
