import FoundationEssentials

/// `dataset.json` of the nnU-Net v2 layout, plus Contour's extensions for landmarks and
/// heterogeneous partially labelled data:
///
/// ```json
/// { "channel_names": {"0": "CT"}, "labels": {"background": 0, "liver": 1, "spleen": 2},
///   "numTraining": 40, "file_ending": ".nii.gz",
///   "landmarks": ["apex", "hilum"],
///   "tasks": {"case_007": {"labels": [1], "landmarks": []},
///             "case_012": {"labels": [], "landmarks": ["apex"]}},
///   "relations": {"apex": [1], "hilum": [1, 2]} }
/// ```
/// `relations` (BaBLoss) names, per landmark, the foreground labels whose boundary it lies on.
/// `tasks` lists, for the cases it names, which foreground labels are annotated and which
/// landmarks exist; cases it does not name have every label and landmark. Keys nnU-Net uses
/// but Contour does not need (name, description, licence, …) are accepted and ignored.
public struct DatasetDescription: Sendable, Equatable {
    public var channelNames: [String]
    /// Label name → value, background included.
    public var labels: [String: Int]
    public var numTraining: Int
    public var fileEnding: String
    public var landmarkNames: [String]
    public var tasks: [String: TaskAvailability]
    /// Landmark name → the foreground labels it lies on the boundary of (BaBLoss's relation table).
    public var landmarkRelations: [String: [Int]]

    public init(channelNames: [String], labels: [String: Int], numTraining: Int, fileEnding: String,
                landmarkNames: [String] = [], tasks: [String: TaskAvailability] = [:], landmarkRelations: [String: [Int]] = [:]) {
        self.channelNames = channelNames
        self.labels = labels
        self.numTraining = numTraining
        self.fileEnding = fileEnding
        self.landmarkNames = landmarkNames
        self.tasks = tasks
        self.landmarkRelations = landmarkRelations
    }

    /// Foreground label values, ascending.
    public var foregroundLabels: [Int] { labels.values.filter { $0 != 0 }.sorted() }

    /// What case `id` carries (everything, unless `tasks` says otherwise).
    public func availability(of id: String) -> TaskAvailability {
        tasks[id] ?? TaskAvailability(labels: Set(foregroundLabels), landmarks: Set(landmarkNames))
    }

    // MARK: JSON

    struct Raw: Codable {
        var channel_names: [String: String]
        var labels: [String: LabelValue]
        var numTraining: Int
        var file_ending: String
        var landmarks: [String]?
        var tasks: [String: RawTask]?
        var relations: [String: [Int]]?
    }

    struct RawTask: Codable {
        var labels: [Int]?
        var landmarks: [String]?
    }

    enum LabelValue: Codable {
        case single(Int)
        case region([Int])
        init(from decoder: Decoder) throws {
            let c = try decoder.singleValueContainer()
            if let v = try? c.decode(Int.self) { self = .single(v) } else { self = .region(try c.decode([Int].self)) }
        }
        func encode(to encoder: Encoder) throws {
            var c = encoder.singleValueContainer()
            switch self {
            case .single(let v): try c.encode(v)
            case .region(let v): try c.encode(v)
            }
        }
    }

    public static func read(path: String) throws -> DatasetDescription {
        let raw = try decode(try JSONDocument.read(path: path), path: path)
        try checkNames(raw, path: path)
        var channels: [String] = []
        for i in 0..<raw.channel_names.count {
            guard let name = raw.channel_names[String(i)] else {
                throw ImagingError("\(path): channel_names must be keyed \"0\"…\"\(raw.channel_names.count - 1)\"")
            }
            channels.append(name)
        }
        var labels: [String: Int] = [:]
        for (name, value) in raw.labels {
            switch value {
            case .single(let v):
                guard (0...255).contains(v) else { throw ImagingError("\(path): label \"\(name)\" = \(v) is outside 0…255") }
                labels[name] = v
            case .region:
                throw ImagingError("\(path): label \"\(name)\" is a region (a list of values); region-based training is not supported")
            }
        }
        guard labels.values.contains(0) else { throw ImagingError("\(path): labels must include background = 0") }
        guard Set(labels.values).count == labels.count else { throw ImagingError("\(path): two labels share a value") }
        let landmarkNames = raw.landmarks ?? []
        var tasks: [String: TaskAvailability] = [:]
        let foreground = Set(labels.values.filter { $0 != 0 })
        for (id, task) in raw.tasks ?? [:] {
            let l = Set(task.labels ?? Array(foreground))
            let m = Set(task.landmarks ?? landmarkNames)
            if let bad = l.subtracting(foreground).sorted().first {
                throw ImagingError("\(path): tasks[\"\(id)\"] lists label \(bad), which is not a foreground label in labels")
            }
            if let bad = m.subtracting(landmarkNames).sorted().first {
                throw ImagingError("\(path): tasks[\"\(id)\"] lists landmark \"\(bad)\", which is not in landmarks")
            }
            tasks[id] = TaskAvailability(labels: l, landmarks: m)
        }
        let relations = raw.relations ?? [:]
        for name in relations.keys.sorted() {
            guard landmarkNames.contains(name) else {
                throw ImagingError("\(path): relations names landmark \"\(name)\", which is not in landmarks"
                                   + (landmarkNames.isEmpty ? " (the dataset declares none)" : " [\(landmarkNames.joined(separator: ", "))]"))
            }
            if let bad = relations[name]!.first(where: { !foreground.contains($0) }) {
                throw ImagingError("\(path): relations[\"\(name)\"] lists class \(bad), which is not a foreground label in labels "
                                   + "(\(foreground.sorted().map(String.init).joined(separator: ", ")))")
            }
        }
        return DatasetDescription(channelNames: channels, labels: labels, numTraining: raw.numTraining,
                                  fileEnding: raw.file_ending, landmarkNames: landmarkNames, tasks: tasks, landmarkRelations: relations)
    }

    /// Names that can become file names (case ids, label, landmark and channel names, the file
    /// ending) hold no path separator, `..` or NUL.
    static func checkNames(_ raw: Raw, path: String) throws {
        for name in raw.labels.keys.sorted() { try SafeName.check(name, "label name", in: "\(path): labels") }
        for name in raw.landmarks ?? [] { try SafeName.check(name, "landmark name", in: "\(path): landmarks") }
        for key in raw.channel_names.keys.sorted() { try SafeName.check(raw.channel_names[key]!, "channel name", in: "\(path): channel_names") }
        for id in (raw.tasks ?? [:]).keys.sorted() { try SafeName.check(id, "case identifier", in: "\(path): tasks") }
        // ".nii.gz" is fine; the ending only must not lead elsewhere.
        let ending = raw.file_ending
        if ending.utf8.contains(0) || ending.contains("/") || ending.contains("\\") {
            throw ImagingError("\(path): file_ending \(SafeName.printable(ending)) contains a path separator or NUL; expected an extension such as \".nii.gz\"")
        }
    }

    /// Checks keys and types in the user's terms ("labels: expected an object {name: value},
    /// found an array") with the line and column of the offending value.
    static func decode(_ json: JSONValue, path: String) throws -> Raw {
        func fail(_ value: JSONValue, _ message: String) -> ImagingError { JSONDocument.error(path, at: value, message) }
        guard json.members != nil else {
            throw fail(json, "expected an object {\"channel_names\": …, \"labels\": …, \"numTraining\": …, \"file_ending\": …}, found \(json.found)")
        }
        func required(_ key: String, hint: String) throws -> JSONValue {
            if let v = json[key] { return v }
            throw ImagingError("\(path): missing key \"\(key)\"\(hint) (an nnU-Net v2 dataset.json needs channel_names, labels, numTraining and file_ending)")
        }
        let v1 = json["modality"] != nil || json["training"] != nil ? "; this looks like nnU-Net v1's dataset.json" : ""

        let channelsValue = try required("channel_names", hint: json["modality"] != nil ? " (nnU-Net v1 called it \"modality\")" : "")
        guard let channelMembers = channelsValue.members else {
            throw fail(channelsValue, "channel_names: expected an object {\"0\": \"CT\", \"1\": …}, found \(channelsValue.found)")
        }
        var channelNames: [String: String] = [:]
        for (key, value) in channelMembers {
            guard let name = value.string else { throw fail(value, "channel_names[\"\(key)\"]: expected a channel name string, found \(value.found)") }
            channelNames[key] = name
        }

        let labelsValue = try required("labels", hint: "")
        guard let labelMembers = labelsValue.members else {
            throw fail(labelsValue, "labels: expected an object {name: value} such as {\"background\": 0, \"liver\": 1}, found \(labelsValue.found)"
                       + (labelsValue.elements != nil ? " (nnU-Net v1 style?)" : ""))
        }
        var labels: [String: LabelValue] = [:]
        for (name, value) in labelMembers {
            if let v = value.int {
                labels[name] = .single(v)
            } else if let list = value.elements, let ints = Optional(list.compactMap(\.int)), ints.count == list.count, !list.isEmpty {
                labels[name] = .region(ints)
            } else if value.string != nil, Int(name) != nil {
                throw fail(value, "labels: expected {name: value} such as {\"background\": 0}, found {\"\(name)\": \"\(value.string ?? "")\"} (nnU-Net v1 style value → name? swap keys and values)")
            } else {
                throw fail(value, "labels[\"\(name)\"]: expected an integer label value, found \(value.found)")
            }
        }

        let countValue = try required("numTraining", hint: "")
        guard let numTraining = countValue.int, numTraining >= 0 else {
            throw fail(countValue, "numTraining: expected a whole number ≥ 0 (the number of training cases), found \(countValue.found)")
        }
        let endingValue = try required("file_ending", hint: v1.isEmpty ? "" : v1)
        guard let fileEnding = endingValue.string, fileEnding.hasPrefix("."), fileEnding.count > 1 else {
            throw fail(endingValue, "file_ending: expected a file extension string starting with \".\", such as \".nii.gz\" or \".png\", found \(endingValue.found)")
        }

        var landmarks: [String]?
        if let value = json["landmarks"] {
            guard let list = value.elements, let names = Optional(list.compactMap(\.string)), names.count == list.count else {
                throw fail(value, "landmarks: expected a list of landmark names [\"apex\", …], found \(value.found)")
            }
            landmarks = names
        }
        var tasks: [String: RawTask]?
        if let value = json["tasks"] {
            guard let cases = value.members else {
                throw fail(value, "tasks: expected an object {case: {\"labels\": [1], \"landmarks\": [\"apex\"]}}, found \(value.found)")
            }
            var out: [String: RawTask] = [:]
            for (id, task) in cases {
                guard task.members != nil else {
                    throw fail(task, "tasks[\"\(id)\"]: expected an object {\"labels\": [1], \"landmarks\": [\"apex\"]}, found \(task.found)")
                }
                var raw = RawTask()
                if let l = task["labels"] {
                    guard let list = l.elements, let ints = Optional(list.compactMap(\.int)), ints.count == list.count else {
                        throw fail(l, "tasks[\"\(id)\"].labels: expected a list of label values [1, 2], found \(l.found)")
                    }
                    raw.labels = ints
                }
                if let m = task["landmarks"] {
                    guard let list = m.elements, let names = Optional(list.compactMap(\.string)), names.count == list.count else {
                        throw fail(m, "tasks[\"\(id)\"].landmarks: expected a list of landmark names [\"apex\"], found \(m.found)")
                    }
                    raw.landmarks = names
                }
                out[id] = raw
            }
            tasks = out
        }
        var relations: [String: [Int]]?
        if let value = json["relations"] {
            guard let members = value.members else {
                throw fail(value, "relations: expected an object {landmark: [labels]} such as {\"apex\": [1, 2]}, found \(value.found)")
            }
            var out: [String: [Int]] = [:]
            for (name, classes) in members {
                if let one = classes.int {
                    out[name] = [one]
                } else if let list = classes.elements, let ints = Optional(list.compactMap(\.int)), ints.count == list.count {
                    out[name] = ints
                } else {
                    throw fail(classes, "relations[\"\(name)\"]: expected a list of label values [1, 2], found \(classes.found)")
                }
            }
            relations = out
        }
        return Raw(channel_names: channelNames, labels: labels, numTraining: numTraining, file_ending: fileEnding,
                   landmarks: landmarks, tasks: tasks, relations: relations)
    }

    /// `relations` (landmark → classes, BaBLoss's table; default: `landmarkRelations`) is written
    /// as dataset.json's `"relations"` when not empty.
    public func write(path: String, relations: [String: [Int]] = [:]) throws {
        let table = relations.isEmpty ? landmarkRelations : relations
        let raw = Raw(
            channel_names: Dictionary(uniqueKeysWithValues: channelNames.enumerated().map { (String($0.offset), $0.element) }),
            labels: labels.mapValues { .single($0) }, numTraining: numTraining, file_ending: fileEnding,
            landmarks: landmarkNames.isEmpty ? nil : landmarkNames,
            tasks: tasks.isEmpty ? nil : tasks.mapValues { RawTask(labels: $0.labels.sorted(), landmarks: $0.landmarks.sorted()) },
            relations: table.isEmpty ? nil : table)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        try FileSystem.writeAtomically(Array(try encoder.encode(raw)), to: path)
    }
}

/// Which targets exist for a case: the annotated foreground labels and the landmark names.
/// Losses mask what a case does not carry.
public struct TaskAvailability: Sendable, Equatable, Hashable {
    public var labels: Set<Int>
    public var landmarks: Set<String>
    public init(labels: Set<Int>, landmarks: Set<String>) {
        self.labels = labels
        self.landmarks = landmarks
    }
    public var hasSegmentation: Bool { !labels.isEmpty }
    public var hasLandmarks: Bool { !landmarks.isEmpty }
}
