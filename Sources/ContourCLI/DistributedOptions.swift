import ArgumentParser
import Foundation
import Torch

/// `--nproc-per-node` and `--dist-timeout`, shared by the commands that run data-parallel
/// (train, predict, evaluate): the launcher side starts the workers; a worker joins the job its
/// environment describes (torchrun, SLURM, by hand, or our launcher).
struct DistributedOptions: ParsableArguments {
    @Option(help: "Start this many workers on this machine (Gloo), like torchrun --nproc-per-node.") var nprocPerNode: Int?
    @Option(help: "Distributed: seconds a worker waits for the others to join and for each collective before failing.")
    var distTimeout: Double = 300

    /// With --nproc-per-node: runs the workers (this command's arguments less the flag) to the end
    /// and returns true; the caller then has nothing left to do.
    func launchWorkers() throws -> Bool {
        guard let n = nprocPerNode else { return false }
        try WorkerLauncher(count: n, arguments: WorkerLauncher.workerArguments(Array(CommandLine.arguments.dropFirst()))).run()
        return true
    }

    /// The job this process is a worker of, nil for a plain single process (the error names a
    /// missing or inconsistent variable).
    func join() throws -> Distributed? {
        try DistributedEnvironment.read(ProcessInfo.processInfo.environment).map { try Distributed($0, timeout: distTimeout) }
    }
}
