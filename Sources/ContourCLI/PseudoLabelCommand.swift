import ArgumentParser
import Foundation
import Imaging
import Torch
import Training

/// `contour pseudo-label`: weak label maps for landmark-annotated cases (BaBLoss §5.5).
struct PseudoLabelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pseudo-label",
        abstract: "Write pseudo label maps for landmark-annotated cases from dataset.json's landmark→class relations.",
        discussion: """
        For each training case with landmarks and each class that "relations" ties to ≥ 1 of its landmarks: \
        without --segmenter, the convex hull of those landmarks (voxel-index space; landmarks spanning no \
        volume are skipped with a warning); with --segmenter, a TorchScript promptable 2D segmenter run slice \
        by slice over the slices between the landmarks (all of them projected as positive point prompts), \
        the largest 3D component kept. Output: OUTPUT/CASE<file_ending> (same geometry as the image), values = \
        class ids; write it to DATASET/pseudoLabelsTr to train with the `sam` objective. See README \
        "Pseudo-labels" for the segmenter contract.
        """)

    @Option(help: "Dataset folder (nnU-Net layout with landmarksTr/ and dataset.json \"relations\").") var dataset: String
    @Option(help: "Folder for the label maps (DATASET/pseudoLabelsTr is what training reads).") var output: String
    @Option(help: "TorchScript promptable segmenter (.pt); default: the convex-hull fallback.") var segmenter: String?
    @Option(help: "With --segmenter: also prompt with the landmarks' box padded by this many pixels.") var boxMargin: Double?
    @Option(help: "With --segmenter: slicing axis of 3D images, auto (the coarsest spacing) or 0, 1, 2 (numpy order).") var axis = "auto"
    @Option(help: "Only these classes, comma-separated (default: every related class).") var classes: String?
    @Option(help: "Device for the segmenter: cpu, cuda, cuda:N, auto.") var device = "cpu"
    @Flag(help: "Replace existing label files in --output.") var overwrite = false

    func validate() throws {
        if let boxMargin, !(boxMargin >= 0 && boxMargin.isFinite) { throw ValidationError("--box-margin must be a number ≥ 0, got \(boxMargin)") }
        if boxMargin != nil && segmenter == nil { throw ValidationError("--box-margin needs --segmenter (the convex hull takes no prompts)") }
        _ = try parsedAxis()
        _ = try parsedClasses()
    }

    func parsedAxis() throws -> PseudoLabeler.Axis {
        if axis == "auto" { return .auto }
        guard let a = Int(axis), (0...2).contains(a) else { throw ValidationError("--axis must be auto, 0, 1 or 2, got '\(axis)'") }
        return .fixed(a)
    }

    func parsedClasses() throws -> Set<Int>? {
        guard let classes else { return nil }
        let parts = classes.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        let values = parts.compactMap { Int($0) }
        guard !parts.isEmpty, values.count == parts.count, values.allSatisfy({ $0 > 0 }) else {
            throw ValidationError("--classes must list class values > 0 separated by commas (e.g. 1,5), got '\(classes)'")
        }
        return Set(values)
    }

    func run() throws {
        let data = try Dataset.open(dataset)
        let d = data.description
        let structures = try PseudoLabeler.structures(d, source: "\(dataset)/dataset.json")
        let only = try parsedClasses()
        if let only, let bad = only.subtracting(structures.keys).sorted().first {
            throw CommandLineError("--classes: class \(bad) is not related to any landmark in \(dataset)/dataset.json relations "
                                   + "(related: \(structures.keys.sorted().map(String.init).joined(separator: ", ")))")
        }
        let cases = data.training.filter { $0.landmarkPath != nil && FileManager.default.fileExists(atPath: $0.landmarkPath!) }
        guard !cases.isEmpty else { throw CommandLineError("--dataset \(dataset): no training case has landmarks (landmarksTr/CASE.json)") }
        try CommandLineError.makeFolder(output, option: "--output")
        let paths = cases.map { "\(output)/\($0.id)\(d.fileEnding)" }
        if !overwrite, let existing = paths.first(where: { FileManager.default.fileExists(atPath: $0) }) {
            throw CommandLineError("--output \(output): \(existing) exists; pass --overwrite to replace it")
        }
        var labeler = PseudoLabeler(axis: try parsedAxis(), classes: only)
        if let segmenter {
            labeler.segmenter = try PromptableSegmenter(path: segmenter, device: try Device(parsing: device))
            labeler.boxMargin = boxMargin
        }
        let names = Dictionary(d.labels.map { ($0.value, $0.key) }, uniquingKeysWith: { a, _ in a })
        let progress = Progress(total: cases.count, label: "pseudo-label", quiet: false)
        var structuresWritten = 0, voxels = 0, warnings = 0
        for (i, c) in cases.enumerated() {
            let image = try Dataset.loadImage(c)
            let landmarks = try Dataset.loadLandmarks(c, rank: image.shape.count, header: image.header)?.points ?? [:]
            let available = landmarks.filter { c.tasks.landmarks.contains($0.key) }
            let result = try labeler.label(caseID: c.id, image: image, landmarks: available, structures: structures, classNames: names)
            for w in result.warnings { FileHandle.standardError.write(Data((w + "\n").utf8)) }
            warnings += result.warnings.count
            try ImageFile.writeLabels(result.labels, path: paths[i], header: image.header)
            structuresWritten += result.voxels.count
            voxels += result.voxels.values.reduce(0, +)
            let detail = result.voxels.keys.sorted().map { "\($0): \(result.voxels[$0]!)" }.joined(separator: ", ")
            progress.update(i + 1, "\(c.id) {\(detail)}")
        }
        let method = segmenter.map { "segmenter \($0)" } ?? "convex hull"
        print("pseudo-labelled \(cases.count) cases (\(method)): \(structuresWritten) structures, \(voxels) voxels → \(output)"
              + (warnings > 0 ? "; \(warnings) structure(s) skipped (see warnings)" : ""))
    }
}
