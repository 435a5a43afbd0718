import CTorch

/// A process group on libtorch's c10d: the processes of one job (ranks 0..<worldSize) meet at a
/// TCPStore that rank 0 hosts (`masterAddress:masterPort`) and exchange tensors through Gloo
/// (CPU; tensors on a CUDA device are staged through the CPU) or NCCL (each rank's GPU; CPU
/// tensors are staged through it). Every collective must be called by all ranks in the same
/// order; each waits at most `timeout` seconds, and a failure is an error naming the rank that
/// stopped when one did. Results are new tensors on the input's device; the inputs are left unchanged.
public final class Distributed: @unchecked Sendable {
    /// The c10d backend that moves the tensors.
    public enum Backend: String, Sendable, CaseIterable {
        case gloo, nccl

        var ct: ct_dist_backend { self == .nccl ? CT_DIST_NCCL : CT_DIST_GLOO }

        /// `gloo`, `nccl` or `auto` for a job training on `device`: auto is nccl on a CUDA device
        /// when the nccl backend can be used, else gloo; `notice` then says why a CUDA job uses gloo.
        public static func choose(_ text: String, device: Device) throws -> (backend: Backend, notice: String?) {
            switch text.lowercased() {
            case "gloo": return (.gloo, nil)
            case "nccl":
                guard case .cuda = device else { throw TorchError("distributed backend nccl reduces CUDA tensors, but the device is \(device); use --device cuda or the gloo backend") }
                if let why = Distributed.ncclUnavailableReason { throw TorchError(why) }
                return (.nccl, nil)
            case "auto":
                guard case .cuda = device else { return (.gloo, nil) }
                if let why = Distributed.ncclUnavailableReason { return (.gloo, "distributed backend: gloo (CUDA tensors staged through the CPU) because \(why)") }
                return (.nccl, nil)
            default: throw TorchError("unknown distributed backend '\(text)': expected auto, gloo or nccl")
            }
        }
    }

    public enum Reduction: Sendable {
        case sum, average, min, max
        var ct: ct_collective_op {
            switch self {
            case .sum: CT_COLLECTIVE_SUM
            case .average: CT_COLLECTIVE_AVG
            case .min: CT_COLLECTIVE_MIN
            case .max: CT_COLLECTIVE_MAX
            }
        }
    }

    public let rank: Int
    public let worldSize: Int
    /// The rank among this machine's workers (LOCAL_RANK): which GPU is this worker's.
    public let localRank: Int
    public let timeout: Double
    public let backend: Backend
    /// Where the collectives run: the CPU for gloo, this rank's GPU for nccl.
    public let device: Device
    private let raw: OpaquePointer
    var handle: OpaquePointer { raw }

    /// Joins the group (blocking until all `worldSize` ranks arrived, at most `timeout` seconds).
    /// Rank 0 hosts the rendezvous store unless `hostsStore` is false (torchrun's agent hosts it);
    /// the group's keys live under `prefix` there. NCCL runs on `device` (a CUDA device; default this
    /// worker's GPU, cuda:(localRank mod GPUs)); without CUDA or its plugin (`make nccl`) it is an error saying so.
    public init(masterAddress: String, masterPort: Int, rank: Int, worldSize: Int, timeout: Double = 300,
                hostsStore: Bool = true, prefix: String = "contour/", localRank: Int? = nil,
                backend: Backend = .gloo, device: Device? = nil) throws {
        guard timeout > 0, timeout.isFinite else { throw TorchError("distributed timeout must be a positive number of seconds, got \(timeout)") }
        var commDevice = Device.cpu
        if backend == .nccl {
            commDevice = try device ?? Device(parsing: "cuda", localRank: localRank ?? rank)
            guard case .cuda = commDevice else { throw TorchError("distributed backend nccl runs on a CUDA device, got \(commDevice)") }
        }
        var out: OpaquePointer?
        try check(ct_dist_init(masterAddress, Int32(clamping: masterPort), Int32(clamping: rank), Int32(clamping: worldSize),
                               Int64(timeout * 1000), hostsStore ? 1 : 0, prefix, backend.ct, commDevice.code.index, &out))
        guard let out else { throw TorchError("ct_dist_init returned no process group") }
        raw = out
        self.rank = rank
        self.worldSize = worldSize
        self.localRank = localRank ?? rank
        self.timeout = timeout
        self.backend = backend
        self.device = commDevice
    }

    /// Joins the group an environment describes (MASTER_ADDR, MASTER_PORT, RANK, WORLD_SIZE).
    public convenience init(_ environment: DistributedEnvironment, timeout: Double = 300, backend: Backend = .gloo, device: Device? = nil) throws {
        try self.init(masterAddress: environment.masterAddress, masterPort: environment.masterPort, rank: environment.rank,
                      worldSize: environment.worldSize, timeout: timeout, hostsStore: !environment.agentStore,
                      prefix: "contour/\(environment.restart)/", localRank: environment.localRank, backend: backend, device: device)
    }

    deinit { ct_dist_free(raw) }

    /// Why the nccl backend cannot be used on this machine (no CUDA, no libcontour_nccl.so, or
    /// one built for another libtorch), nil when it can.
    public static var ncclUnavailableReason: String? {
        let s = String(cString: ct_dist_nccl_status())
        return s.isEmpty ? nil : s
    }

    /// Where the backend reduces a tensor on `d`: the CPU for gloo; for nccl `d` when it is a
    /// CUDA device, else this rank's GPU.
    private func commDevice(for d: Device) -> Device {
        if backend == .gloo { return .cpu }
        if case .cuda = d { return d }
        return device
    }

    /// A contiguous copy on the backend's device that the collective may write into.
    private func buffer(_ t: Tensor) throws -> Tensor {
        let d = commDevice(for: t.device)
        return t.device == d ? try t.contiguous().clone() : try t.to(d).contiguous()
    }

    private func back(_ b: Tensor, like t: Tensor) throws -> Tensor { t.device == b.device ? b : try b.to(t.device) }

    public func allReduce(_ t: Tensor, _ op: Reduction = .sum) throws -> Tensor {
        let b = try buffer(t)
        try withExtendedLifetime((self, b.handle)) { try check(ct_dist_allreduce(raw, b.handle.raw, op.ct)) }
        return try back(b, like: t)
    }

    /// Rank `root`'s tensor, on every rank (each passes a tensor of the same shape and dtype).
    public func broadcast(_ t: Tensor, from root: Int = 0) throws -> Tensor {
        let b = try buffer(t)
        try withExtendedLifetime((self, b.handle)) { try check(ct_dist_broadcast(raw, b.handle.raw, Int32(clamping: root))) }
        return try back(b, like: t)
    }

    /// Every rank's tensor stacked along a new first dimension: (worldSize, …).
    public func allGather(_ t: Tensor) throws -> Tensor {
        let b = try buffer(t)
        let g = try withExtendedLifetime((self, b.handle)) { try Tensor.make { ct_dist_allgather(raw, b.handle.raw, $0) } }
        return try back(g, like: t)
    }

    /// The sum of `t` over the ranks, with autograd: the gradient flowing back to `t` is the sum
    /// over the ranks of the gradients reaching the result (all ranks must run that backward).
    /// SyncBatchNorm's statistics.
    public func differentiableSum(_ t: Tensor) throws -> Tensor {
        try withExtendedLifetime((self, t.handle)) { try Tensor.make { ct_dist_allreduce_sum_autograd(raw, t.handle.raw, $0) } }
    }

    public func barrier() throws {
        try withExtendedLifetime(self) { try check(ct_dist_barrier(raw)) }
    }

    /// Reduces a few numbers (flags, counts, metric sums) across ranks, in float64.
    public func allReduce(_ values: [Double], _ op: Reduction = .sum) throws -> [Double] {
        guard !values.isEmpty else { return [] }
        return try allReduce(try Tensor(values), op).doubles()
    }

    /// Every rank's bytes (any length), in rank order: the lengths are gathered first, then the
    /// payloads padded to the longest.
    public func allGather(bytes: [UInt8]) throws -> [[UInt8]] {
        let lengths = try allGather(try Tensor([Int64(bytes.count)], shape: [1])).ints()
        let width = Swift.max(lengths.max() ?? 0, 1)
        let padded = bytes + [UInt8](repeating: 0, count: width - bytes.count)
        let all = try allGather(try Tensor(padded, shape: [width])).rawBytes()
        return lengths.enumerated().map { r, n in Array(all[(r * width)..<(r * width + n)]) }
    }

    /// Overwrites `tensors` (parameters, buffers) with rank `root`'s values: one broadcast per
    /// dtype of their concatenation.
    public func broadcast(inPlace tensors: [Tensor], from root: Int = 0) throws {
        // Groups in order of first appearance: every rank must issue the same broadcasts in the same order.
        var dtypes: [DType] = []
        for t in tensors where !dtypes.contains(t.dtype) { dtypes.append(t.dtype) }
        for dtype in dtypes {
            let members = tensors.filter { $0.dtype == dtype }
            let flat = try Tensor.cat(try members.map { try $0.detached().to(device).reshape([-1]) })
            let value = try broadcast(flat, from: root)
            try scatter(value, into: members)
        }
    }

    /// Replaces every gradient of `parameters` by its average over the ranks, reduced in flat
    /// buckets of about `bucketBytes` of one dtype each (a parameter without a gradient counts as
    /// zeros). Every rank passes the same parameters in the same order.
    public func averageGradients(_ parameters: [Tensor], bucketBytes: Int = 25 << 20) throws {
        var start = 0
        while start < parameters.count {
            let dtype = parameters[start].dtype
            let width = dtype.byteCount
            var end = start, bytes = 0
            while end < parameters.count, parameters[end].dtype == dtype, end == start || bytes + parameters[end].count * width <= bucketBytes {
                bytes += parameters[end].count * width
                end += 1
            }
            let members = Array(parameters[start..<end])
            let flat = try Tensor.cat(try members.map { p in try (p.grad ?? Tensor.zeros(like: p)).reshape([-1]) })
            let mean = try allReduce(flat, .average)
            var offset = 0
            for p in members {
                try p.setGrad(try mean.narrow(dim: 0, start: offset, length: p.count).reshape(p.shape))
                offset += p.count
            }
            start = end
        }
    }

    /// Copies consecutive pieces of a flat tensor into `tensors`, without recording gradients.
    private func scatter(_ flat: Tensor, into tensors: [Tensor]) throws {
        var offset = 0
        try withoutGradients {
            for t in tensors {
                let piece = try flat.narrow(dim: 0, start: offset, length: t.count).reshape(t.shape).to(t.device)
                try t.copyInPlace(from: piece)
                offset += t.count
            }
        }
    }
}

/// Gradient averaging overlapped with backward, as DDP's reducer: hooks on the parameters start
/// each bucket's all-reduce as soon as backward has produced all its gradients. `arm()` before one
/// backward, `finish()` after it: every parameter's `.grad` is then the average over the ranks (a
/// parameter without a gradient counts as zeros). Every rank passes the same parameters in the same
/// order. Outside arm/finish (e.g. per-objective `gradients(of:)`) the hooks do nothing.
public final class GradientReducer {
    public let group: Distributed
    let parameters: [Tensor]
    private let raw: OpaquePointer

    public init(group: Distributed, parameters: [Tensor], bucketBytes: Int = 25 << 20) throws {
        var out: OpaquePointer?
        let handles = parameters.map { $0.handle.raw as ct_tensor? }
        try withExtendedLifetime((group, parameters)) {
            try handles.withUnsafeBufferPointer { hp in
                try check(ct_dist_reducer_new(group.handle, hp.baseAddress, Int32(hp.count), Int64(bucketBytes), &out))
            }
        }
        guard let out else { throw TorchError("ct_dist_reducer_new returned no reducer") }
        raw = out
        self.group = group
        self.parameters = parameters
    }

    deinit { ct_dist_reducer_free(raw) }

    public func arm() throws { try withExtendedLifetime(self) { try check(ct_dist_reducer_arm(raw)) } }

    public func finish() throws { try withExtendedLifetime(self) { try check(ct_dist_reducer_finish(raw)) } }
}
