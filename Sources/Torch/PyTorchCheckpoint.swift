import Foundation
import Geometry
import ZIPFoundation

/// Reads the tensors of a PyTorch `.pth` file as `torch.save` writes it since 1.6: a zip of
/// `<name>/data.pkl` (the pickled object), `<name>/data/<key>` (raw storages) and `<name>/byteorder`.
/// Only state dicts are read: a dict/OrderedDict of tensors (or one nested under `state_dict`,
/// `model`, …). The pickle runs in `Pickle`, which refuses every global but the tensor rebuilders
/// and storage types, so no code in the file is ever executed.
public enum PyTorchCheckpoint {
    public struct File {
        /// Tensors in file order (the pickled dict's insertion order).
        public var tensors: [(name: String, tensor: Tensor)]
        /// The key of the outer dict the state dict was taken from (`state_dict`, `model`, …), if any.
        public var wrapperKey: String?
    }

    /// Keys of training checkpoints that hold the model's state dict, in the order they are tried.
    public static let wrapperKeys = ["state_dict", "model", "model_state_dict", "model_state", "net", "network"]

    static let storageTypes: [String: DType] = [
        "torch.FloatStorage": .float32, "torch.HalfStorage": .float16, "torch.BFloat16Storage": .bfloat16,
        "torch.DoubleStorage": .float64, "torch.LongStorage": .int64, "torch.IntStorage": .int32,
        "torch.ShortStorage": .int16, "torch.CharStorage": .int8, "torch.ByteStorage": .uint8, "torch.BoolStorage": .bool,
    ]
    static let rebuildTensor = "torch._utils._rebuild_tensor_v2"
    static let rebuildParameter = "torch._utils._rebuild_parameter"

    /// Whether `bytes` start like a zip archive (a `.pth` of torch ≥ 1.6, or any zip).
    public static func looksLikeZip(_ head: [UInt8]) -> Bool { head.starts(with: [0x50, 0x4b, 0x03, 0x04]) }

    /// Whether `head` starts like the legacy format: pickle protocol 2, then torch's 10-byte magic number as a LONG1.
    public static func looksLikeLegacy(_ head: [UInt8]) -> Bool { head.starts(with: [0x80, 0x02, 0x8a, 0x0a]) }

    public static func load(_ path: String) throws -> File {
        try checkMagic(try FileHandle.head(path, count: 4), source: path)
        try ZipBounds.check(path)
        let archive: Archive
        do {
            archive = try Archive(url: URL(fileURLWithPath: path), accessMode: .read)
        } catch {
            throw TorchError("\(path): not a readable zip archive (\(error))")
        }
        return try load(archive: archive, source: path)
    }

    static func checkMagic(_ head: [UInt8], source path: String) throws {
        guard looksLikeZip(head) else {
            if looksLikeLegacy(head) {
                throw TorchError("\(path): a PyTorch file in the legacy (pre-1.6) format, which is not read; re-save it in PyTorch with "
                                 + "torch.save(torch.load(path), new_path, _use_new_zipfile_serialization=True)")
            }
            throw TorchError("\(path): not a PyTorch .pth file (torch.save writes a zip archive; this file does not start with one)")
        }
    }

    static func load(archive: Archive, source path: String) throws -> File {
        let entries = Dictionary(archive.map { ($0.path, $0) }, uniquingKeysWith: { a, _ in a })
        guard let pkl = entries.keys.filter({ $0 == "data.pkl" || $0.hasSuffix("/data.pkl") }).min(by: { $0.count < $1.count }) else {
            if entries.keys.contains(where: { $0.hasSuffix("constants.pkl") || $0.contains("/code/") }) {
                throw TorchError("\(path): a TorchScript archive (torch.jit.save), not a torch.save state dict; "
                                 + "save the weights with torch.save(model.state_dict(), path)")
            }
            throw TorchError("\(path): a zip archive without data.pkl, so not written by torch.save")
        }
        let prefix = String(pkl.dropLast("data.pkl".count))
        func read(_ name: String) throws -> [UInt8]? {
            guard let entry = entries[prefix + name] else { return nil }
            var out: [UInt8] = []
            // The header's size is only a claim: deflate expands at most ~1032×.
            out.reserveCapacity(Int(Swift.min(entry.uncompressedSize, entry.compressedSize &* 1032 &+ 4096, 1 << 30)))
            do {
                _ = try archive.extract(entry) { out.append(contentsOf: $0) }
            } catch {
                throw TorchError("\(path): cannot read \(prefix + name) from the zip (\(error))")
            }
            return out
        }
        if let order = try read("byteorder") {
            let s = String(decoding: order, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            guard s == "little" else {
                throw TorchError("\(path): byte order '\(s)' (archive \(prefix)byteorder); only little-endian files are read — "
                                 + "re-save it on a little-endian machine")
            }
        }
        return try decode(pickle: try read("data.pkl")!, source: path, storage: { key in
            guard let bytes = try read("data/\(key)") else { throw TorchError("\(path): storage \(prefix)data/\(key) is missing") }
            return bytes
        })
    }

    /// Runs the pickle of a `.pth` archive; `storage(key)` returns the bytes of `data/<key>`.
    static func decode(pickle: [UInt8], source: String, storage: @escaping (String) throws -> [UInt8]) throws -> File {
        var storages: [String: PickledStorage] = [:]
        var host = Pickle.Host(
            globals: Set(storageTypes.keys).union([rebuildTensor, rebuildParameter]),
            reduce: { global, args in
                switch global {
                case rebuildTensor: return .object(try rebuild(args, source: source))
                case rebuildParameter:
                    guard let first = args.first, case .object(let t as Tensor) = first else {
                        throw TorchError("\(source): _rebuild_parameter without a tensor")
                    }
                    return .object(t)
                default:
                    throw TorchError("\(source): '\(global)' is not callable here (only tensor rebuilders are)")
                }
            },
            persistentLoad: { pid in
                // ('storage', torch.<Type>Storage, key, location, numel)
                guard case .tuple(let p) = pid, p.count == 5, case .string("storage") = p[0], case .global(let type) = p[1],
                      case .string(let key) = p[2], case .int(let numel) = p[4], numel >= 0 else {
                    throw TorchError("\(source): persistent id \(pid.kind) is not a torch storage reference")
                }
                guard let dtype = storageTypes[type] else { throw TorchError("\(source): unsupported storage type \(type)") }
                if let s = storages[key] {
                    guard s.elements.dtype == dtype else {
                        throw TorchError("\(source): storage \(key) is read both as \(s.elements.dtype) and as \(dtype); this is not supported")
                    }
                    return .object(s)
                }
                let bytes = try storage(key)
                guard numel <= bytes.count, bytes.count == numel * dtype.byteCount else {
                    throw TorchError("\(source): storage \(key) holds \(bytes.count) bytes, not \(numel) × \(dtype) (\(numel * dtype.byteCount))")
                }
                let s = PickledStorage(elements: try Tensor(bytes: bytes, shape: [numel], dtype: dtype))
                storages[key] = s
                return .object(s)
            })
        host.refusalHint = "re-save only the weights in PyTorch: torch.save(model.state_dict(), path)"
        return try Pickle.load(pickle, source: "\(source) (data.pkl)", host: host) { root in try stateDict(root, source: source) }
    }

    /// The state dict in the unpickled object (itself, or under one of `wrapperKeys`).
    static func stateDict(_ root: PickleValue, source: String) throws -> File {
        guard case .dict(let top) = root else {
            throw TorchError("\(source): the saved object is a \(root.kind), not a state dict (a dict of tensors)")
        }
        if let tensors = try tensorDict(top, source: source, strict: false) { return File(tensors: tensors, wrapperKey: nil) }
        for key in wrapperKeys {
            if case .dict(let inner)? = top[key] {
                guard let tensors = try tensorDict(inner, source: source, strict: true, path: "['\(key)']") else { continue }
                return File(tensors: tensors, wrapperKey: key)
            }
        }
        let keys = top.items.prefix(8).map { k, v in "\(k.stringValue ?? k.kind): \(v.kind)" }
        throw TorchError("\(source): neither a state dict nor a checkpoint holding one under \(wrapperKeys.joined(separator: ", ")); "
                         + "its top-level entries are {\(keys.joined(separator: ", "))\(top.items.count > 8 ? ", …" : "")}")
    }

    /// The dict as (name, tensor) pairs, or nil (or, with `strict`, an error) if any value is not a tensor.
    static func tensorDict(_ d: PickleDict, source: String, strict: Bool, path: String = "") throws -> [(name: String, tensor: Tensor)]? {
        var out: [(name: String, tensor: Tensor)] = []
        for (k, v) in d.items {
            guard let name = k.stringValue, case .object(let t as Tensor) = v else {
                if strict {
                    throw TorchError("\(source): entry \(path)[\(k.stringValue.map { "'\($0)'" } ?? k.kind)] is a \(v.kind), not a tensor")
                }
                return nil
            }
            out.append((name, t))
        }
        return out
    }

    /// `_rebuild_tensor_v2(storage, offset, size, stride, requires_grad, backward_hooks[, metadata])`:
    /// the view of the storage, copied into its own contiguous memory (views never alias).
    static func rebuild(_ args: [PickleValue], source: String) throws -> Tensor {
        guard args.count >= 4, case .object(let storage as PickledStorage) = args[0], case .int(let offset) = args[1],
              let size = args[2].ints, let strides = args[3].ints, size.count == strides.count else {
            throw TorchError("\(source): _rebuild_tensor_v2 with unexpected arguments (\(args.map(\.kind).joined(separator: ", ")))")
        }
        let s = storage.elements, numel = s.shape[0]
        guard offset >= 0, size.allSatisfy({ $0 >= 0 }), strides.allSatisfy({ $0 >= 0 }) else {
            throw TorchError("\(source): tensor of size \(size), stride \(strides), offset \(offset) has negative entries")
        }
        // Strides of 0 let a tiny storage claim any size: bound it before libtorch allocates the copy.
        if let problem = ElementLimit.problem(size, source: "\(source): a tensor") { throw TorchError(problem) }
        if size.contains(0) { return try Tensor.zeros(size, dtype: s.dtype) }
        var last = offset, overflow = false
        for (n, st) in zip(size, strides) {
            let (step, o1) = (n - 1).multipliedReportingOverflow(by: st)
            let (sum, o2) = last.addingReportingOverflow(step)
            (last, overflow) = (sum, overflow || o1 || o2)
        }
        guard !overflow, last < numel else {
            throw TorchError("\(source): tensor of size \(size), stride \(strides), offset \(offset) reaches element \(last) of a storage of \(numel)")
        }
        let view = try s.asStrided(size, strides: strides, offset: offset)
        var contiguous = [Int](repeating: 1, count: size.count)
        for i in stride(from: size.count - 2, through: 0, by: -1) { contiguous[i] = contiguous[i + 1] * size[i + 1] }
        let isDense = zip(zip(size, strides), contiguous).allSatisfy { sz, c in sz.0 == 1 || sz.1 == c }
        return isDense ? try view.clone() : try view.contiguous()
    }
}

/// A storage of the archive (`data/<key>`): its elements as a 1-D tensor, kept apart from tensors
/// so that a pickle cannot pass a tensor where a storage belongs.
struct PickledStorage {
    let elements: Tensor
}

extension PickleValue {
    var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    /// A tuple or list of ints.
    var ints: [Int]? {
        let items: [PickleValue]
        switch self {
        case .tuple(let t): items = t
        case .list(let l): items = l.items
        default: return nil
        }
        var out: [Int] = []
        for v in items {
            guard case .int(let i) = v else { return nil }
            out.append(i)
        }
        return out
    }
}

extension FileHandle {
    /// The first `count` bytes of a file (fewer if it is shorter).
    static func head(_ path: String, count: Int) throws -> [UInt8] {
        guard let h = FileHandle(forReadingAtPath: path) else {
            throw TorchError("cannot read \(path): no such file or not readable")
        }
        defer { try? h.close() }
        return Array((try? h.read(upToCount: count)) ?? Data())
    }
}
