import CTorch

/// Where a tensor lives.
public enum Device: Sendable, Equatable, Hashable, CustomStringConvertible {
    case cpu
    case cuda(Int)

    /// Whether libtorch's CUDA library could be loaded and sees at least one GPU.
    public static var isCUDAAvailable: Bool { ct_cuda_init() != 0 && ct_cuda_device_count() > 0 }
    public static var cudaDeviceCount: Int { Int(ct_cuda_device_count()) }
    /// Why CUDA is unavailable, or nil when it is available.
    public static var cudaUnavailableReason: String? {
        _ = ct_cuda_init()
        let s = String(cString: ct_cuda_status())
        return s.isEmpty ? nil : s
    }

    /// The best available device: `cuda(0)` when CUDA is usable, else `cpu`.
    public static var best: Device { isCUDAAvailable ? .cuda(0) : .cpu }

    /// Parses `cpu`, `cuda`, `cuda:N`, or `auto`. A distributed worker passes its `localRank`:
    /// `cuda` and `auto` (with CUDA) then mean its own GPU, cuda:(localRank mod GPUs), as torchrun's
    /// convention; an explicit `cuda:N` is kept.
    public init(parsing text: String, localRank: Int? = nil) throws {
        let t = text.lowercased()
        let own = localRank.map { $0 % Swift.max(Device.cudaDeviceCount, 1) } ?? 0
        if t == "cpu" { self = .cpu; return }
        if t == "auto" { self = Device.isCUDAAvailable ? .cuda(own) : .cpu; return }
        if t == "cuda" || t == "gpu" { self = .cuda(own); return }
        if t.hasPrefix("cuda:"), let n = Int(t.dropFirst(5)), n >= 0 { self = .cuda(n); return }
        throw TorchError("unknown device '\(text)': expected cpu, cuda, cuda:N or auto")
    }

    public var description: String {
        switch self {
        case .cpu: return "cpu"
        case .cuda(let i): return "cuda:\(i)"
        }
    }

    /// The shim's device type and index; the shim validates both (e.g. a negative or absent CUDA index).
    var code: (type: ct_device_type, index: Int32) {
        switch self {
        case .cpu: return (CT_DEVICE_CPU, 0)
        case .cuda(let i): return (CT_DEVICE_CUDA, Int32(clamping: i))
        }
    }

    /// The device the shim reports; an unknown type is an error naming it.
    init(type: ct_device_type, index: Int32) throws {
        switch type {
        case CT_DEVICE_CPU: self = .cpu
        case CT_DEVICE_CUDA: self = .cuda(Int(index))
        default: throw TorchError("unknown device type code \(type.rawValue) from libtorch")
        }
    }
}
