import Geometry

/// One problem `DataCheck` found; `file` is the path to look at.
public struct DataProblem: Sendable, Equatable, CustomStringConvertible {
    public var file: String
    public var message: String
    public var description: String { "\(file): \(message)" }

    public init(file: String, message: String) {
        self.file = file
        self.message = message
    }

    /// A problem from an error whose message may already start with the file's path
    /// ("PATH: …" or "PATH:line:column: …"); the path is not repeated.
    init(file: String, error: Error, prefix: String = "") {
        let text = "\(error)"
        if text.hasPrefix(file), let colon = text[text.index(text.startIndex, offsetBy: file.count)...].firstRange(of: ": ") {
            self.init(file: String(text[..<colon.lowerBound]), message: prefix + text[colon.upperBound...])
        } else {
            self.init(file: file, message: prefix + text)
        }
    }
}

/// Verifies a dataset the way nnU-Net's `--verify_dataset_integrity` does, plus Contour's
/// landmark and partial-label extensions. Every case is checked; a bad file is a reported
/// problem, never a crash.
public enum DataCheck {
    public struct Report: Sendable {
        public var problems: [DataProblem]
        public var casesChecked: Int
        public var isClean: Bool { problems.isEmpty }
    }

    public static func run(_ root: String, progress: ((Int, Int) -> Void)? = nil) -> Report {
        let dataset: Dataset
        do {
            dataset = try Dataset.open(root)
        } catch {
            return Report(problems: [DataProblem(file: root, error: error)], casesChecked: 0)
        }
        var problems: [DataProblem] = []
        let d = dataset.description
        if dataset.training.count != d.numTraining {
            problems.append(DataProblem(file: "\(root)/dataset.json",
                                        message: "numTraining is \(d.numTraining) but imagesTr holds \(dataset.training.count) cases"))
        }
        for id in d.tasks.keys.sorted() where !dataset.training.contains(where: { $0.id == id }) {
            problems.append(DataProblem(file: "\(root)/dataset.json", message: "tasks names case \"\(id)\", which is not in imagesTr"))
        }
        problems += layout(root, dataset: dataset)
        let allowed = Set(d.labels.values)
        let all = dataset.training.map { ($0, true) } + dataset.test.map { ($0, false) }
        for (index, (c, labelled)) in all.enumerated() {
            problems += check(c, labelled: labelled, description: d, allowed: allowed)
            progress?(index + 1, all.count)
        }
        return Report(problems: problems, casesChecked: all.count)
    }

    static func check(_ c: DatasetCase, labelled: Bool, description d: DatasetDescription, allowed: Set<Int>) -> [DataProblem] {
        var problems: [DataProblem] = []
        func problem(_ file: String, _ message: String) { problems.append(DataProblem(file: file, message: message)) }

        // Images: every channel present, decodable, finite, same shape and spacing.
        var reference: (shape: [Int], spacing: [Double], header: ImageHeader, path: String)?
        for path in c.imagePaths {
            guard FileSystem.exists(path) else { problem(path, "missing channel file"); continue }
            do {
                let v = try ImageFile.read(path)
                if v.channels.count != 1 && d.channelNames.count > 1 {
                    problem(path, "has \(v.channels.count) channels; with several channel_names each file holds one")
                }
                if let bad = v.channels.first(where: { g in g.storage.contains { !$0.isFinite } }) {
                    let n = bad.storage.filter { !$0.isFinite }.count
                    problem(path, "\(n) NaN or infinite intensities")
                }
                if let r = reference {
                    if v.shape != r.shape { problem(path, "shape \(v.shape) differs from \(r.path)'s \(r.shape)") }
                    else if !close(v.spacing, r.spacing) { problem(path, "spacing \(v.spacing) differs from \(r.path)'s \(r.spacing)") }
                } else {
                    reference = (v.shape, v.spacing, v.header, path)
                }
            } catch {
                problems.append(DataProblem(file: path, error: error, prefix: "unreadable: "))
            }
        }
        guard labelled else { return problems }

        // Labels: present when the case is segmented, same geometry, values declared.
        if let path = c.labelPath {
            if !FileSystem.exists(path) {
                problem(path, "missing label file (the case is annotated for labels \(c.tasks.labels.sorted()))")
            } else {
                do {
                    let (labels, header) = try ImageFile.readLabels(path)
                    if let r = reference {
                        if labels.shape != r.shape { problem(path, "label shape \(labels.shape) differs from image shape \(r.shape)") }
                        else if !close(header.spacing, r.spacing) { problem(path, "label spacing \(header.spacing) differs from image spacing \(r.spacing)") }
                    }
                    var present = Set<Int>()
                    for v in labels.storage { present.insert(Int(v)) }
                    let undeclared = present.subtracting(allowed).sorted()
                    if !undeclared.isEmpty { problem(path, "label values \(undeclared) are not in dataset.json labels \(allowed.sorted())") }
                    let unannotated = present.subtracting(c.tasks.labels).subtracting([0]).intersection(allowed).sorted()
                    if !unannotated.isEmpty {
                        problem(path, "label values \(unannotated) occur but tasks says this case is annotated only for \(c.tasks.labels.sorted())")
                    }
                } catch {
                    problems.append(DataProblem(file: path, error: error, prefix: "unreadable: "))
                }
            }
        }

        // Pseudo labels (pseudoLabelsTr/): same geometry, values declared.
        if let path = c.pseudoLabelPath {
            do {
                let (pseudo, header) = try ImageFile.readLabels(path)
                if let r = reference {
                    if pseudo.shape != r.shape { problem(path, "pseudo-label shape \(pseudo.shape) differs from image shape \(r.shape)") }
                    else if !close(header.spacing, r.spacing) { problem(path, "pseudo-label spacing \(header.spacing) differs from image spacing \(r.spacing)") }
                }
                var present = Set<Int>()
                for v in pseudo.storage { present.insert(Int(v)) }
                let undeclared = present.subtracting(allowed).sorted()
                if !undeclared.isEmpty { problem(path, "pseudo-label values \(undeclared) are not in dataset.json labels \(allowed.sorted())") }
            } catch {
                problems.append(DataProblem(file: path, error: error, prefix: "unreadable: "))
            }
        }

        // Landmarks: present when declared, known names, inside the image.
        if let path = c.landmarkPath {
            if !FileSystem.exists(path) {
                problem(path, "missing landmark file (the case carries \(c.tasks.landmarks.sorted()))")
            } else if let r = reference {
                do {
                    let marks = try Landmarks.read(path: path, rank: r.shape.count, header: r.header)
                    let unknown = Set(marks.points.keys).subtracting(d.landmarkNames).sorted()
                    if !d.landmarkNames.isEmpty && !unknown.isEmpty {
                        problem(path, "landmarks \(unknown) are not in dataset.json landmarks \(d.landmarkNames)")
                    }
                    let missing = c.tasks.landmarks.subtracting(marks.points.keys).sorted()
                    if !missing.isEmpty { problem(path, "landmarks \(missing) are declared for this case but absent") }
                    for name in marks.names {
                        let p = marks.points[name]!
                        let inside = zip(p, r.shape).allSatisfy { $0 >= -0.5 && $0 <= Double($1) - 0.5 }
                        if !inside { problem(path, "landmark \"\(name)\" at \(Array(p.reversed())) (x, y[, z]) lies outside the image \(Array(r.shape.reversed()))") }
                    }
                } catch {
                    problems.append(DataProblem(file: path, error: error, prefix: "unreadable: "))
                }
            }
        }
        return problems
    }

    /// Files that loading skips without a word: names that miss `file_ending` or the `_0000`
    /// channel suffix, channels beyond `channel_names`, labels and landmarks without an image.
    static func layout(_ root: String, dataset: Dataset) -> [DataProblem] {
        let d = dataset.description, ending = d.fileEnding
        var problems: [DataProblem] = []
        func list(_ folder: String) -> [String] {
            ((try? FileSystem.list("\(root)/\(folder)")) ?? []).filter { !$0.hasPrefix(".") }
        }
        func extensionOf(_ name: String) -> String { name.firstIndex(of: ".").map { String(name[$0...]) } ?? "(none)" }
        func shortList(_ names: [String]) -> String { names.prefix(3).joined(separator: ", ") + (names.count > 3 ? ", …" : "") }

        for folder in ["imagesTr", "imagesTs"] {
            let names = list(folder)
            let matching = names.filter { $0.hasSuffix(ending) }
            let others = names.filter { !$0.hasSuffix(ending) }
            if matching.isEmpty && !names.isEmpty {
                let found = Set(names.map(extensionOf)).sorted().joined(separator: ", ")
                problems.append(DataProblem(file: "\(root)/dataset.json",
                                            message: "file_ending \"\(ending)\" matches no file in \(folder), which holds \(found) files; set file_ending to the images' extension"))
                continue
            }
            if !others.isEmpty {
                problems.append(DataProblem(file: "\(root)/\(folder)",
                                            message: "\(others.count) file(s) do not end in file_ending \"\(ending)\" and are ignored: \(shortList(others))"))
            }
            for name in matching {
                guard let (_, channel) = Dataset.imageName(name, ending: ending) else {
                    let stem = name.dropLast(ending.count)
                    problems.append(DataProblem(file: "\(root)/\(folder)/\(name)",
                                                message: "no channel suffix: images are named CASE_0000\(ending) (one file per channel, as in nnU-Net), e.g. \(stem)_0000\(ending); this file is ignored"))
                    continue
                }
                if channel >= d.channelNames.count {
                    problems.append(DataProblem(file: "\(root)/\(folder)/\(name)",
                                                message: "channel \(channel), but dataset.json declares \(d.channelNames.count) channel(s) in channel_names; this file is ignored"))
                }
            }
        }
        let otherLabels = list("labelsTr").filter { !$0.hasSuffix(ending) }
        if !otherLabels.isEmpty {
            problems.append(DataProblem(file: "\(root)/labelsTr",
                                        message: "\(otherLabels.count) file(s) do not end in file_ending \"\(ending)\" and are ignored: \(shortList(otherLabels))"))
        }
        let ids = Set(dataset.training.map(\.id))
        for (folder, suffix, what) in [("labelsTr", ending, "label"), ("landmarksTr", ".json", "landmark file"),
                                       (Dataset.pseudoLabelFolder, ending, "pseudo-label file")] {
            for name in list(folder) where name.hasSuffix(suffix) {
                let id = String(name.dropLast(suffix.count))
                if !ids.contains(id) {
                    problems.append(DataProblem(file: "\(root)/\(folder)/\(name)",
                                                message: "\(what) without an image: no imagesTr/\(id)_0000\(ending); this \(what) is ignored"))
                }
            }
        }
        return problems
    }

    static func close(_ a: [Double], _ b: [Double]) -> Bool {
        a.count == b.count && zip(a, b).allSatisfy { Swift.abs($0 - $1) <= 1e-4 * Swift.max(Swift.abs($0), Swift.abs($1), 1) }
    }
}
