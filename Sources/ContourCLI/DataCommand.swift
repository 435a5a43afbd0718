import ArgumentParser
import Foundation
import Imaging
import Training

/// `contour data …`: dataset tools.
struct DataCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "data",
        abstract: "Check datasets and generate demo data.",
        subcommands: [DataCheckCommand.self, DataDemoCommand.self, DataPlanCommand.self, DataPreprocessCommand.self]
    )
}

/// `contour data check DIR`: nnU-Net-style integrity check with Contour's extensions.
struct DataCheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Verify a dataset: files, channels, shapes and spacing, label values, landmarks, NaN/Inf.",
        discussion: "Every problem is printed with the file it concerns; the exit code is non-zero if any is found.")

    @Argument(help: "Dataset folder (dataset.json, imagesTr/, labelsTr/, …).") var dataset: String
    @Flag(help: "Print JSON: {\"cases\": N, \"problems\": [{\"file\": …, \"message\": …}]}.") var json = false

    func run() throws {
        let progress = Progress(total: 0, label: "check", quiet: json)
        let report = DataCheck.run(dataset) { done, total in
            progress.total = total
            progress.update(done, "")
        }
        if json {
            let object: [String: Any] = [
                "cases": report.casesChecked,
                "problems": report.problems.map { ["file": $0.file, "message": $0.message] },
            ]
            let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .prettyPrinted])
            print(String(decoding: data, as: UTF8.self))
        } else {
            for p in report.problems { print(p) }
            print(report.isClean ? "\(dataset): \(report.casesChecked) cases, no problems"
                                 : "\(dataset): \(report.problems.count) problem(s) in \(report.casesChecked) cases")
        }
        if !report.isClean { throw ExitCode(1) }
    }
}
