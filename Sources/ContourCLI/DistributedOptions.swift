import ArgumentParser
import Foundation
import Torch

/// `--nproc-per-node`, `--dist-timeout` and `--dist-backend`, shared by the commands that run
/// data-parallel (train, predict, evaluate): the launcher side starts the workers; a worker joins
/// the job its environment describes (torchrun, SLURM, by hand, or our launcher).
struct DistributedOptions: ParsableArguments {
    @Option(help: "Start this many workers on this machine, like torchrun --nproc-per-node.") var nprocPerNode: Int?
    @Option(help: "Distributed: seconds a worker waits for the others to join and for each collective before failing.")
    var distTimeout: Double = 300
    @Option(help: """
        Distributed: the c10d backend, gloo (CPU), nccl (CUDA; needs libcontour_nccl.so from `make nccl`) or auto \
        (nccl when the device is CUDA and nccl can be used, else gloo).
        """)
    var distBackend = "auto"

    func validate() throws {
        guard (["auto"] + Distributed.Backend.allCases.map(\.rawValue)).contains(distBackend.lowercased()) else {
            throw ValidationError("--dist-backend: expected auto, gloo or nccl, got '\(distBackend)'")
        }
    }

    /// With --nproc-per-node: runs the workers (this command's arguments less the flag) to the end
    /// and returns true; the caller then has nothing left to do.
    func launchWorkers() throws -> Bool {
        guard let n = nprocPerNode else { return false }
        try WorkerLauncher(count: n, arguments: WorkerLauncher.workerArguments(Array(CommandLine.arguments.dropFirst()))).run()
        return true
    }

    /// The job this process is a worker of, nil for a plain single process (the error names a
    /// missing or inconsistent variable). `device` (cpu, cuda, auto…, as --device) is where this
    /// worker computes: it picks the backend for --dist-backend auto and nccl's GPU.
    func join(device: String) throws -> Distributed? {
        guard let env = try DistributedEnvironment.read(ProcessInfo.processInfo.environment) else { return nil }
        let (backend, notice, resolved) = try Self.backend(distBackend, device: device, localRank: env.localRank)
        if let notice, env.rank == 0 { fputs("note: \(notice)\n", stderr) }
        return try Distributed(env, timeout: distTimeout, backend: backend, device: backend == .nccl ? resolved : nil)
    }

    /// The backend --dist-backend `choice` names for a worker on `device`; an error names the option.
    static func backend(_ choice: String, device: String, localRank: Int) throws -> (Distributed.Backend, String?, Device) {
        let resolved = try Device(parsing: device, localRank: localRank)
        do {
            let (backend, notice) = try Distributed.Backend.choose(choice, device: resolved)
            return (backend, notice, resolved)
        } catch let e as TorchError {
            throw CommandLineError("--dist-backend \(choice): \(e.message)")
        }
    }
}
