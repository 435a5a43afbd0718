import ArgumentParser
import Foundation
import Geometry
import Imaging
import Torch
import Training

/// `contour predict`: label maps for a folder of images, in their own format and header.
struct PredictCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "predict",
        abstract: "Predict label maps for every image in a folder (sliding window, optional mirroring).",
        discussion: """
        Images named CASE_0000.ext, CASE_0001.ext, … are the channels of CASE (the nnU-Net convention); other \
        files are single-channel cases. Outputs are CASE.ext in the input's format (NIfTI keeps the source header, \
        so predictions overlay the image); --probabilities also writes CASE.npy with the softmax (C, spatial…). \
        A model with a heatmap head (unet2d-mt, resunet3d-mt, …) also writes each case's landmarks as \
        OUTPUT/landmarksTs/CASE.json in the dataset landmark format (x/y/z order; voxel space, or millimetres \
        through the image's affine with --landmark-space world).

        --nproc-per-node N (or torchrun/SLURM variables) splits the cases over N workers: worker r \
        predicts cases r, r + N, …; the outputs are those of one process.
        """)

    @Option(help: "Checkpoint folder, or a run folder (uses its best checkpoint).") var checkpoint: String
    @Option(help: "Folder of input images.") var input: String
    @Option(help: "Folder for the predicted label maps.") var output: String
    @Flag(help: "Test-time augmentation: average over all mirrorings.") var mirror = false
    @Flag(help: "Also write softmax probabilities as .npy.") var probabilities = false
    @Option(help: "Landmark extraction from heatmaps: argmax, softargmax or quadratic (default: the checkpoint's evaluation.landmarks.extraction).")
    var landmarkExtraction: String?
    @Option(help: "Coordinates of the written landmarks: voxel, or world (mm through the image's affine / spacing).")
    var landmarkSpace = "voxel"
    @Option(help: "Device: auto, cpu, cuda, cuda:N.") var device = "auto"
    @Option(help: "Plans file (contour data plan) of a model trained on preprocessed data: each image is cropped, normalised and resampled as `contour data preprocess` does, and the prediction mapped back to the image's geometry.")
    var plans: String?
    @Option(help: "The configuration of --plans.") var configuration: String?
    @OptionGroup var distributed: DistributedOptions

    func run() throws {
        if try distributed.launchWorkers() { return }
        let group = try distributed.join(device: device)
        let isMain = (group?.rank ?? 0) == 0
        guard ["voxel", "world"].contains(landmarkSpace) else {
            throw CommandLineError("--landmark-space: expected voxel or world, got '\(landmarkSpace)'")
        }
        let cases = try Self.groupCases(in: input)
        guard !cases.isEmpty else { throw CommandLineError("--input \(input): no images (expected \(Self.imageKinds) files)") }
        let (predictor, state) = try Predictor.load(checkpoint: checkpoint, device: try Device(parsing: device, localRank: group?.localRank))
        var preprocessor: Preprocessor?
        if let plans {
            guard let configuration else { throw CommandLineError("--plans \(plans): name its configuration with --configuration") }
            if probabilities { throw CommandLineError("--probabilities: not available with --plans (probabilities are mapped back to the image only as a label map)") }
            preprocessor = try Preprocessor(plans: try ExperimentPlans.read(path: plans), configuration: configuration, plansPath: plans)
        } else if configuration != nil {
            throw CommandLineError("--configuration picks a configuration of --plans FILE; give --plans too")
        }
        let policy = try EvaluateCommand.policy(state: state, topology: false, mirror: mirror, sdrRadii: nil, extraction: landmarkExtraction)
        let landmarkNames = state.landmarkNames ?? []
        try CommandLineError.makeFolder(output, option: "--output")
        if predictor.heatmapHead != nil && !landmarkNames.isEmpty {
            try CommandLineError.makeFolder("\(output)/landmarksTs", option: "--output")
        }
        // Distributed: each rank predicts and writes its share of the cases.
        let mine = Evaluation.share(cases, of: group)
        let progress = Progress(total: mine.count, label: "predict", quiet: !isMain)
        var failures = 0
        for (i, (id, paths)) in mine.enumerated() {
            do {
                var channels: [Grid<Float>] = []
                var header: ImageHeader?
                for p in paths {
                    let v = try ImageFile.read(p)
                    channels += v.channels
                    header = header ?? v.header
                }
                let volume = ImageVolume(channels: channels, header: header!, isInteger: false)
                if let preprocessor {
                    let labels = try predictor.predict(volume, through: preprocessor, id: id, mirror: mirror)
                    try ImageFile.writeLabels(labels, path: "\(output)/\(id)\(Self.outputExtension(paths[0]))", header: header)
                    progress.update(i + 1, id)
                    continue
                }
                let p = try predictor.predictHeads(volume, mirror: mirror)
                let ext = Self.outputExtension(paths[0])
                try ImageFile.writeLabels(p.labels, path: "\(output)/\(id)\(ext)", header: header)
                if probabilities { try p.probabilities.squeeze(dim: 0).saveNPY("\(output)/\(id).npy") }
                if let heatmaps = p.heatmaps, heatmaps.shape[1] == landmarkNames.count {
                    let points = try policy.landmarks.points(heatmaps)
                    try Landmarks(points: Dictionary(uniqueKeysWithValues: zip(landmarkNames, points)))
                        .write(path: "\(output)/landmarksTs/\(id).json", world: landmarkSpace == "world" ? header : nil)
                }
            } catch {
                failures += 1
                FileHandle.standardError.write(Data("\(id): \(error)\n".utf8))
            }
            progress.update(i + 1, id)
        }
        if let group, group.worldSize > 1 { failures = Int(try group.allReduce([Double(failures)], .sum)[0]) }
        guard isMain else { return }
        print("wrote \(cases.count - failures) prediction(s) to \(output)")
        if failures > 0 { throw ExitCode(1) }
    }

    /// Groups `CASE_0000.ext` channel files; other image files are cases of their own.
    static func groupCases(in folder: String) throws -> [(String, [String])] {
        let names = try CommandLineError.listFolder(folder, option: "--input", holding: "images (\(imageKinds))")
        var groups: [String: [(Int, String)]] = [:]
        for name in names where ImageFile.format(of: name) != nil {
            let stem = ImageFile.stem(name)
            // The case name becomes the output's file name.
            try SafeName.check(stem, "case name", in: "--input \(folder)/\(name)")
            if stem.count > 5, stem[stem.index(stem.endIndex, offsetBy: -5)] == "_", let ch = Int(stem.suffix(4)) {
                groups[String(stem.dropLast(5)), default: []].append((ch, "\(folder)/\(name)"))
            } else {
                groups[stem, default: []].append((0, "\(folder)/\(name)"))
            }
        }
        return groups.keys.sorted().map { ($0, groups[$0]!.sorted { $0.0 < $1.0 }.map(\.1)) }
    }

    static var imageKinds: String { ImageFile.extensions.map(\.0).joined(separator: ", ") }

    /// Label maps keep the input format, except JPEG (lossy), which becomes PNG.
    static func outputExtension(_ path: String) -> String {
        let lower = path.lowercased()
        for (ext, format) in ImageFile.extensions where lower.hasSuffix(ext) {
            return format == .jpeg ? ".png" : ext
        }
        return ".nii.gz"
    }
}
