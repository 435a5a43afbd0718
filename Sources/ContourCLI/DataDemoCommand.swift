import ArgumentParser
import Foundation
import Imaging

/// `contour data demo`: writes a procedural dataset in the nnU-Net layout.
struct DataDemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Write a procedural demo dataset (nnU-Net v2 layout with dataset.json), deterministic per seed.",
        discussion: """
        Kinds: tubular (vessel-like trees; SCNP/clDice), blobs (near-convex = 1 and non-convex = 2; \
        Hadwiger priors), cells (touching rounded cells; roundness), organ-landmarks (an organ with 4 \
        landmarks on its boundary, partially labelled: a third of the cases only labels, a third only \
        landmarks, listed in dataset.json's "tasks"), tubular3d (48³ NIfTI volumes), organ-landmarks-3d \
        (BaBLoss's HPL pair: 64³ volumes of an organ with a core, 8 boundary landmarks; even training cases \
        carry only landmarks, odd ones only labels; dataset.json has the landmark→class "relations"), polyps \
        (endoscopy-like scenes with low-contrast, blurred-edge polyps for ConDSeg: 256² R, G, B channel PNGs \
        _0000.._0002), shapes (one binary label: ellipses, star-convex blobs, C-shapes and thin rims of varied \
        size; HadBalance's shape priors; 60 + 20 cases by default), shapes3d (the same in 48³: ellipsoids, lobed \
        blobs, C-shaped bent tubes, open shells). Other 2D kinds are 128² 8-bit gray PNGs. Test cases go to imagesTs/ (their references to \
        labelsTs/, landmarksTs/).
        """)

    @Option(help: "Folder to write the dataset into (created if missing; must be empty unless --overwrite).") var output: String
    @Option(help: "One of: \(DemoKind.names.joined(separator: ", ")).") var kind = "tubular"
    @Option(help: "Training cases (imagesTr; default 40, shapes/shapes3d 60).") var count: Int?
    @Option(help: "Test cases (imagesTs; default 10, shapes/shapes3d 20).") var testCount: Int?
    @Option(help: "Random seed; the same seed writes the same files.") var seed: UInt64 = 0
    @Flag(help: "Write into a non-empty folder: its dataset.json and images/labels/landmarks folders are replaced, other files are kept.")
    var overwrite = false

    /// What a demo dataset consists of; `--overwrite` removes these and nothing else.
    static let datasetEntries = ["dataset.json", "imagesTr", "labelsTr", "imagesTs", "labelsTs", "landmarksTr", "landmarksTs"]

    func validate() throws {
        if let count, count < 1 { throw ValidationError("--count must be ≥ 1, got \(count)") }
        if let testCount, testCount < 0 { throw ValidationError("--test-count must be ≥ 0, got \(testCount)") }
        do { _ = try DemoKind(name: kind) } catch { throw ValidationError("--kind: \(error)") }
    }

    func run() throws {
        let k = try DemoKind(name: kind)
        let count = count ?? k.defaultCounts.train, testCount = testCount ?? k.defaultCounts.test
        try prepareOutput()
        let description = try DemoData.write(kind: k, to: output, trainCount: count, testCount: testCount, seed: seed)
        let labels = description.labels.sorted { $0.value < $1.value }.map { "\($0.value)=\($0.key)" }.joined(separator: ", ")
        print("wrote \(k.rawValue) demo data to \(output): \(count) training + \(testCount) test cases (\(description.fileEnding)), labels \(labels)"
              + (description.landmarkNames.isEmpty ? "" : ", landmarks \(description.landmarkNames.joined(separator: ", "))"))
    }

    /// Refuses a non-empty folder (a dataset there would mix old and new cases) unless --overwrite.
    func prepareOutput() throws {
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        guard fm.fileExists(atPath: output, isDirectory: &isDirectory) else { return }
        guard isDirectory.boolValue else { throw CommandLineError("--output \(output): is a file, expected a folder") }
        let present = ((try? fm.contentsOfDirectory(atPath: output)) ?? []).filter { !$0.hasPrefix(".") }.sorted()
        guard !present.isEmpty else { return }
        guard overwrite else {
            let shown = present.prefix(3).joined(separator: ", ") + (present.count > 3 ? ", …" : "")
            throw CommandLineError("--output \(output): the folder is not empty (\(shown)); choose an empty or new folder, or pass --overwrite to replace the dataset in it")
        }
        for entry in Self.datasetEntries where present.contains(entry) {
            do {
                try fm.removeItem(atPath: "\(output)/\(entry)")
            } catch {
                throw CommandLineError("--output \(output): cannot remove the old \(entry) (no write permission?)")
            }
        }
    }
}
