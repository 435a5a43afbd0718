import ArgumentParser
import Foundation

/// The `contour` command line. Public so that a package depending on Contour can register its
/// own objectives, models or optimizers and then run `await Contour.main()` as its executable.
public struct Contour: AsyncParsableCommand {
    public static let version = "0.1.0"

    public init() {}

    public static let configuration = CommandConfiguration(
        commandName: "contour",
        abstract: "Geometry-aware medical image segmentation and landmark detection on libtorch.",
        version: version,
        subcommands: [Info.self, Demo.self, TrainCommand.self, EvaluateCommand.self, PredictCommand.self, DataCommand.self,
                      CompareCommand.self, ModelsCommand.self, WeightsCommand.self, MetricsCommand.self, LossCommand.self, BalanceCommand.self, PseudoLabelCommand.self,
                      Bench.self]
    )

    /// Runs the command line with stdout line-buffered, so `contour train … > log` (a pipe or a
    /// file, nohup, SLURM) shows each epoch line as it is printed and loses none on SIGINT.
    public static func main() async {
        setvbuf(stdout, nil, _IOLBF, 0)
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? AsyncParsableCommand { try await asyncCommand.run() } else { try command.run() }
        } catch {
            exit(withError: error)
        }
    }
}

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Benchmarks; each times Contour against a reference in interleaved rounds (ratio, 95 % bootstrap CI).",
        subcommands: [EngineBench.self, GeometryBench.self, ObjectivesBench.self, BalancerBench.self, DataBench.self,
                      ModelsBench.self, DistributedBench.self, SoakBench.self, BenchAll.self]
    )
}
