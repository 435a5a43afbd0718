import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Where a worker stands in a distributed job, from the variables torchrun, SLURM scripts and
/// `contour train --nproc-per-node` set: MASTER_ADDR, MASTER_PORT, RANK, WORLD_SIZE, and
/// LOCAL_RANK, LOCAL_WORLD_SIZE (rank and count on this machine; when unset, RANK and WORLD_SIZE).
public struct DistributedEnvironment: Sendable, Equatable {
    public var masterAddress: String
    public var masterPort: Int
    public var rank: Int
    public var worldSize: Int
    public var localRank: Int
    public var localWorldSize: Int
    /// torchrun's agent hosts the rendezvous store (TORCHELASTIC_USE_AGENT_STORE=True): rank 0 joins it as a client.
    public var agentStore = false
    /// torchrun's restart count (TORCHELASTIC_RESTART_COUNT): a restarted job's keys stay apart.
    public var restart = 0

    public init(masterAddress: String, masterPort: Int, rank: Int, worldSize: Int, localRank: Int? = nil, localWorldSize: Int? = nil) {
        self.masterAddress = masterAddress
        self.masterPort = masterPort
        self.rank = rank
        self.worldSize = worldSize
        self.localRank = localRank ?? rank
        self.localWorldSize = localWorldSize ?? worldSize
    }

    public static let variableNames = ["MASTER_ADDR", "MASTER_PORT", "RANK", "WORLD_SIZE", "LOCAL_RANK", "LOCAL_WORLD_SIZE"]

    /// The variables as a worker receives them.
    public var variables: [String: String] {
        ["MASTER_ADDR": masterAddress, "MASTER_PORT": String(masterPort), "RANK": String(rank), "WORLD_SIZE": String(worldSize),
         "LOCAL_RANK": String(localRank), "LOCAL_WORLD_SIZE": String(localWorldSize)]
    }

    /// nil when neither RANK nor WORLD_SIZE is set (a plain single process); otherwise every
    /// variable must be present and consistent, or the error names the one that is not.
    public static func read(_ environment: [String: String]) throws -> DistributedEnvironment? {
        let present = variableNames.filter { environment[$0] != nil }
        guard environment["RANK"] != nil || environment["WORLD_SIZE"] != nil else {
            if let v = present.first {
                throw TorchError("\(v) is set but RANK and WORLD_SIZE are not; a distributed worker needs MASTER_ADDR, MASTER_PORT, RANK and WORLD_SIZE")
            }
            return nil
        }
        func value(_ name: String) throws -> String {
            guard let v = environment[name]?.trimmingCharacters(in: .whitespaces), !v.isEmpty else {
                throw TorchError("\(name) is not set; a distributed worker needs MASTER_ADDR, MASTER_PORT, RANK and WORLD_SIZE "
                                 + "(set: \(present.isEmpty ? "none" : present.joined(separator: ", ")))")
            }
            return v
        }
        func integer(_ name: String, _ range: ClosedRange<Int>, _ expected: String) throws -> Int {
            let text = try value(name)
            guard let n = Int(text), range.contains(n) else { throw TorchError("\(name)=\(text) is not \(expected)") }
            return n
        }
        let address = try value("MASTER_ADDR")
        let port = try integer("MASTER_PORT", 1...65535, "a port number in 1…65535")
        let world = try integer("WORLD_SIZE", 1...Int(Int32.max), "a positive integer")
        let rank = try integer("RANK", 0...Int(Int32.max), "a rank ≥ 0")
        guard rank < world else { throw TorchError("RANK=\(rank) is not below WORLD_SIZE=\(world) (ranks are 0…\(world - 1))") }
        let localWorld = environment["LOCAL_WORLD_SIZE"] == nil ? world : try integer("LOCAL_WORLD_SIZE", 1...world, "in 1…WORLD_SIZE (\(world))")
        let localRank = environment["LOCAL_RANK"] == nil ? (environment["LOCAL_WORLD_SIZE"] == nil ? rank : rank % localWorld)
            : try integer("LOCAL_RANK", 0...Int(Int32.max), "a rank ≥ 0")
        guard localRank < localWorld else {
            throw TorchError("LOCAL_RANK=\(localRank) is not below LOCAL_WORLD_SIZE=\(localWorld)")
        }
        var e = DistributedEnvironment(masterAddress: address, masterPort: port, rank: rank, worldSize: world,
                                       localRank: localRank, localWorldSize: localWorld)
        e.agentStore = environment["TORCHELASTIC_USE_AGENT_STORE"]?.lowercased() == "true"
        e.restart = environment["TORCHELASTIC_RESTART_COUNT"].flatMap { Int($0) } ?? 0
        return e
    }

    /// A TCP port free on this machine now (the kernel's pick), for a one-machine job's rendezvous.
    public static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TorchError("cannot open a socket to find a free port (errno \(errno))") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound else { throw TorchError("cannot bind a socket to find a free port (errno \(errno))") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
