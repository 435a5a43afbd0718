import ArgumentParser
import Foundation
import Geometry
import Imaging
import Metrics
import Torch

/// `contour metrics`: scores any model's saved masks against the truth, case by case.
struct MetricsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "metrics",
        abstract: "Dice, IoU, precision, recall, BFScore, Betti errors, clDice, HD, HD95 and ASSD of saved masks.",
        discussion: """
        Files in --pred and --truth are paired by case name (the file name without its extension).
        Formats: 8/16-bit gray PNG and TIFF (2D), NIfTI .nii/.nii.gz (3D, with its header spacing) and \
        integer or boolean .npy (2D or 3D). One row is written per case and label, also where both masks lack \
        the label (an empty case): its overlap and distance metrics are NaN (undefined; empty in CSV, null in \
        JSON) and its Betti errors 0, as in MONAI and nnU-Net. Means skip NaN (nnU-Net's nanmean); the JSON \
        summary's n counts the values averaged and nan the undefined ones. A missing counterpart, \
        a shape mismatch or an unreadable file is reported with the file's path; the other cases are \
        still scored and the exit code is then non-zero.
        """)

    @Option(help: "Folder of predicted masks (label maps).")
    var pred: String

    @Option(help: "Folder of ground-truth masks (label maps).")
    var truth: String

    @Option(help: "Comma-separated foreground labels, optionally named: 1,2 or 1=liver,2=spleen (default: every non-zero label present).")
    var labels: String?

    @Option(help: "A dataset folder (or its dataset.json) whose labels name the label values in tables, CSV and JSON.")
    var dataset: String?

    @Option(help: "Voxel spacing in mm, one value per array axis in numpy order ([H,W] / [D,H,W]); default: the NIfTI header, else 1.")
    var spacing: String?

    @Option(help: "BFScore tolerance in the spacing's units (pixels when no spacing is given); default 0.75 % of the image diagonal.")
    var tolerance: Double?

    @Option(name: .customLong("hd95"), help: "HD95 convention: monai (max of directed 95th percentiles) or pooled (medpy).")
    var hd95Convention: String = "monai"

    @Flag(help: "Skip Betti errors and clDice (skeletons), which dominate the time on large 3D volumes.")
    var noTopology = false

    @Option(help: "Also write every column, one row per case and label, to this CSV file.")
    var csv: String?

    @Flag(help: "Print the cases and summary as JSON.")
    var json = false

    @Flag(help: "ConDSeg's per-image conventions: Dice (F1), IoU (Jaccard), precision, recall, accuracy and F2 with 1e-15 smoothing, so empty masks score instead of NaN; adds the accuracy and f2 columns.")
    var condsegConventions = false

    /// The printed columns: the fixed schema, plus accuracy and F2 under ConDSeg's conventions.
    var columns: [String] { MetricsReport.jsonColumns + (condsegConventions ? MetricsReport.condsegColumns : []) }

    func run() throws {
        var options = CaseMetricsOptions()
        options.boundaryTolerance = tolerance
        options.topology = !noTopology
        options.condsegConventions = condsegConventions
        guard let convention = SurfaceDistances.PercentileConvention(rawValue: hd95Convention) else {
            throw ValidationError("--hd95 must be monai or pooled, got \(hd95Convention)")
        }
        options.percentileConvention = convention
        if let spacing {
            let values = spacing.split(separator: ",").map { Double($0.trimmingCharacters(in: .whitespaces)) }
            guard !values.isEmpty, values.allSatisfy({ $0 != nil && $0! > 0 && $0!.isFinite }) else {
                throw ValidationError("--spacing must be positive numbers separated by commas, got \(spacing)")
            }
            options.spacing = values.map { $0! }
        }
        var wanted: [Int]?
        var names = LabelNames()
        if let dataset {
            let path = dataset.hasSuffix(".json") ? dataset : (dataset as NSString).appendingPathComponent("dataset.json")
            guard FileManager.default.fileExists(atPath: path) else {
                throw ValidationError("--dataset: no dataset.json at \(path)")
            }
            names = LabelNames(datasetLabels: try DatasetDescription.read(path: path).labels)
        }
        if let labels {
            do {
                let parsed = try LabelNames.parse(labels)
                wanted = parsed.labels
                names.names.merge(parsed.names.names) { _, given in given }
            } catch {
                throw ValidationError("\(error)")
            }
        }

        let predFiles = try MaskFiles.list(pred, option: "--pred"), truthFiles = try MaskFiles.list(truth, option: "--truth")
        var scored: [(name: String, shape: [Int], spacing: [Double]?, rows: [CaseMetricsRow])] = []
        var failures: [String] = []
        for name in Set(predFiles.keys).union(truthFiles.keys).sorted() {
            guard let p = predFiles[name] else {
                failures.append("\(truthFiles[name]!): no prediction named \(name) in \(pred)")
                continue
            }
            guard let t = truthFiles[name] else {
                failures.append("\(p): no ground truth named \(name) in \(truth)")
                continue
            }
            do {
                let a = try MaskFiles.read(p), g = try MaskFiles.read(t)
                guard a.shape == g.shape else {
                    throw GeometryError.invalidShape("\(p): shape \(a.shape) does not match \(t) shape \(g.shape)")
                }
                var caseOptions = options
                if let sp = options.spacing, sp.count != g.rank {
                    throw ValidationError("--spacing has \(sp.count) values but \(t) is \(g.rank)D")
                }
                caseOptions.spacing = options.spacing ?? g.spacing
                scored.append((name, g.shape, caseOptions.spacing,
                               try CaseMetrics.evaluate(caseName: name, prediction: a, truth: g, labels: wanted, options: caseOptions)))
            } catch {
                failures.append("\(error)")
            }
        }
        // A case without a label in either mask stays in the table, with NaN where undefined.
        let rows = try CaseMetrics.keepingEveryCase(scored, labels: wanted, options: options)

        if let csv {
            do {
                try AtomicFile.write(Array(MetricsReport.csv(rows, names: names).utf8), to: csv)
            } catch {
                failures.append("--csv: \(error)")
            }
        }
        if json {
            print(MetricsReport.json(rows, names: names, columns: columns))
        } else {
            print(Self.table(rows, names: names, metrics: columns))
        }
        for f in failures { FileHandle.standardError.write(Data("error: \(f)\n".utf8)) }
        if !failures.isEmpty { throw ExitCode.failure }
    }

    /// One line per case and label, then each label's mean and, with several labels, the
    /// foreground mean (the mean of the labels' means).
    static func table(_ rows: [CaseMetricsRow], names: LabelNames = LabelNames(), metrics: [String] = MetricsReport.jsonColumns) -> String {
        let columns = metrics.map { n in CaseMetricsRow.columns.first { $0.name == n }! }
        let cell = MetricsReport.consoleNumber
        var lines = [(["case", "label", "name"] + metrics).joined(separator: "\t")]
        for r in rows {
            lines.append(([r.caseName, String(r.label), names.name(of: r.label)] + columns.map { cell(r[keyPath: $0.value]) })
                .joined(separator: "\t"))
        }
        let labels = LabelSummary.perLabel(rows, names: names)
        for l in labels {
            lines.append((["mean", String(l.label), l.name] + metrics.map { cell(l[$0]?.mean ?? .nan) }).joined(separator: "\t"))
        }
        if labels.count > 1 {
            let foreground = LabelSummary.foregroundMean(labels)
            lines.append((["foreground mean", "", ""] + metrics.map { m in cell(foreground.first { $0.name == m }?.mean ?? .nan) })
                .joined(separator: "\t"))
        }
        return lines.joined(separator: "\n")
    }
}

/// Mask files by case name, and reading them as label maps.
enum MaskFiles {
    static let extensions = [".nii.gz", ".nii", ".png", ".npy", ".tif", ".tiff"]

    static func caseName(_ file: String) -> String? {
        for ext in extensions where file.lowercased().hasSuffix(ext) { return String(file.dropLast(ext.count)) }
        return nil
    }

    /// Masks by case name; a missing folder or one without masks is an error naming `option`.
    static func list(_ folder: String, option: String) throws -> [String: String] {
        let kinds = "masks (\(extensions.joined(separator: ", ")))"
        var out: [String: String] = [:]
        for file in try CommandLineError.listFolder(folder, option: option, holding: kinds) {
            guard let name = caseName(file) else { continue }
            out[name] = (folder as NSString).appendingPathComponent(file)
        }
        guard !out.isEmpty else { throw CommandLineError("\(option) \(folder): no \(kinds)") }
        return out
    }

    static func read(_ path: String) throws -> Grid<Int32> {
        let lower = path.lowercased()
        if lower.hasSuffix(".png") {
            return try PNGFile.read(path: path).map { Int32($0) }
        }
        if lower.hasSuffix(".npy") {
            let array = try NPYArray(decoding: try AtomicFile.read(path), name: path)
            guard array.shape.count == 2 || array.shape.count == 3 else {
                throw GeometryError.invalidShape("\(path): a mask is 2D or 3D, got shape \(array.shape)")
            }
            let values = array.doubles()
            if values.contains(where: { $0 != $0.rounded() || abs($0) > Double(Int32.max) }) {
                throw GeometryError.format("\(path): holds non-integer values; save masks as integer label maps")
            }
            return try Grid(shape: array.shape, storage: values.map { Int32($0) })
        }
        // NIfTI and TIFF through the imaging layer; NIfTI brings its header spacing.
        let volume = try ImageFile.read(path)
        guard volume.channels.count == 1 else {
            throw GeometryError.format("\(path): a mask must have one channel, found \(volume.channels.count)")
        }
        let channel = volume.channels[0]
        if channel.storage.contains(where: { $0 != $0.rounded() || abs($0) > 16_777_216 }) {
            throw GeometryError.format("\(path): holds non-integer values; save masks as integer label maps")
        }
        return try Grid(shape: channel.shape, spacing: volume.header.spacing, storage: channel.storage.map { Int32($0) })
    }
}
