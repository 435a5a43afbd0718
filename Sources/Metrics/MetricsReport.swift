import Geometry

/// Text forms of evaluation rows: the `contour metrics --json` document and CSV.
public enum MetricsReport {
    /// The columns of `--json`, in order (the issue's fixed schema).
    public static let jsonColumns = ["dice", "iou", "precision", "recall", "bfscore", "betti0_error", "betti1_error",
                                     "cldice", "hd", "hd95", "assd"]
    /// The columns ConDSeg reports, added to `jsonColumns` under its conventions.
    public static let condsegColumns = ["accuracy", "f2"]

    /// `{"cases":[{"case":…,"label":…,"label_name":…,"dice":…,…}],"summary":{"dice":{"mean":…,"std":…,"n":…},…},
    /// "labels":[{"name":…,"value":…,"metrics":{"dice":{"mean":…,"std":…,"n":…},…}},…],"foreground mean":{"dice":…,…}}`
    /// with `null` for NaN and `"inf"` for +inf; `n` counts the values in the mean, `nan` the
    /// undefined ones left out (both masks empty). `summary` pools every row (cases × labels);
    /// `labels` summarises each label and `foreground mean` is the mean of the labels' means.
    public static func json(_ rows: [CaseMetricsRow], names: LabelNames = LabelNames(), columns wanted: [String] = jsonColumns) -> String {
        let columns = wanted.map { name in CaseMetricsRow.columns.first { $0.name == name }! }
        func summaryObject(_ s: Summary) -> String {
            "{\"mean\":\(jsonNumber(s.mean)),\"std\":\(jsonNumber(s.std)),\"n\":\(s.n),\"nan\":\(s.undefined)}"
        }
        var out = "{\"cases\":["
        out += rows.map { row in
            var fields = ["\"case\":\(JSONString.quoted(row.caseName))", "\"label\":\(row.label)",
                          "\"label_name\":\(JSONString.quoted(names.name(of: row.label)))"]
            for c in columns { fields.append("\"\(c.name)\":\(jsonNumber(row[keyPath: c.value]))") }
            return "{" + fields.joined(separator: ",") + "}"
        }.joined(separator: ",")
        out += "],\"summary\":{"
        out += columns.map { c in "\"\(c.name)\":" + summaryObject(Summary(rows.map { $0[keyPath: c.value] })) }.joined(separator: ",")
        let labels = LabelSummary.perLabel(rows, names: names)
        out += "},\"labels\":["
        out += labels.map { l in
            "{\"name\":\(JSONString.quoted(l.name)),\"value\":\(l.label),\"metrics\":{"
                + columns.map { c in "\"\(c.name)\":" + summaryObject(l[c.name]!) }.joined(separator: ",") + "}}"
        }.joined(separator: ",")
        let foreground = Dictionary(uniqueKeysWithValues: LabelSummary.foregroundMean(labels).map { ($0.name, $0.mean) })
        out += "],\"foreground mean\":{"
        out += columns.map { c in "\"\(c.name)\":\(jsonNumber(foreground[c.name]!))" }.joined(separator: ",")
        out += "}}"
        return out
    }

    /// Console lines: one per label (`NAME (label N): Dice m ± s, HD95 m ± s, … (n = cases)`) and,
    /// with several labels, the foreground mean. Metrics undefined for a label are left out.
    public static func summaryLines(_ rows: [CaseMetricsRow], names: LabelNames = LabelNames(),
                                    metrics: [String] = ["dice", "hd95", "betti0_error", "cldice"]) -> [String] {
        let labels = LabelSummary.perLabel(rows, names: names)
        var lines: [String] = labels.map { l in
            let parts = metrics.compactMap { m -> String? in
                guard let s = l[m], s.n > 0 else { return nil }
                // std is NaN when a value is infinite: "HD95 inf", not "inf ± nan".
                return "\(displayName(m)) \(consoleNumber(s.mean))" + (s.std.isNaN ? "" : " ± \(consoleNumber(s.std))")
            }
            let n = rows.filter { $0.label == l.label }.count, undefined = l["dice"]?.undefined ?? 0
            let title = l.name == "label \(l.label)" ? l.name : "\(l.name) (label \(l.label))"
            return "\(title): " + parts.joined(separator: ", ")
                + " (n = \(n)\(undefined > 0 ? ", Dice undefined for \(undefined): both masks empty" : ""))"
        }
        if labels.count > 1 {
            let means = LabelSummary.foregroundMean(labels)
            let parts = metrics.compactMap { m -> String? in
                guard let v = means.first(where: { $0.name == m })?.mean, !v.isNaN else { return nil }
                return "\(displayName(m)) \(consoleNumber(v))"
            }
            lines.append("foreground mean (\(labels.count) labels): " + parts.joined(separator: ", "))
        }
        return lines
    }

    /// How consoles and reports name a metric column.
    public static func displayName(_ metric: String) -> String {
        switch metric {
        case "dice": return "Dice"
        case "iou": return "IoU"
        case "bfscore": return "BFScore"
        case "betti0_error": return "β0 error"
        case "betti1_error": return "β1 error"
        case "betti2_error": return "β2 error"
        case "cldice": return "clDice"
        case "hd": return "HD"
        case "hd95": return "HD95"
        case "assd": return "ASSD"
        case "f2": return "F2"
        default: return metric
        }
    }

    /// Four decimals; `nan`, `inf`.
    public static func consoleNumber(_ v: Double) -> String {
        if v.isNaN { return "nan" }
        if v.isInfinite { return v > 0 ? "inf" : "-inf" }
        // By hand: Metrics does not import Foundation for String(format:).
        let scaled = (Swift.abs(v) * 10_000).rounded()
        guard scaled < 1e15 else { return String(v) }
        let units = Int(scaled), fraction = String(units % 10_000)
        return (v < 0 && units > 0 ? "-" : "") + "\(units / 10_000)." + String(repeating: "0", count: 4 - fraction.count) + fraction
    }

    /// One header line and one line per row, every column; NaN is empty, +inf is `inf`.
    public static func csv(_ rows: [CaseMetricsRow], names: LabelNames = LabelNames()) -> String {
        var lines = [(["case", "label", "label_name"] + CaseMetricsRow.columns.map(\.name)).joined(separator: ",")]
        for row in rows {
            var fields = [csvField(row.caseName), String(row.label), csvField(names.name(of: row.label))]
            for c in CaseMetricsRow.columns { fields.append(plainNumber(row[keyPath: c.value])) }
            lines.append(fields.joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    public static func jsonNumber(_ v: Double) -> String {
        if v.isNaN { return "null" }
        if v == .infinity { return "\"inf\"" }
        if v == -.infinity { return "\"-inf\"" }
        return plainNumber(v)
    }

    static func plainNumber(_ v: Double) -> String {
        if v.isNaN { return "" }
        if v.isInfinite { return v > 0 ? "inf" : "-inf" }
        if v == v.rounded() && abs(v) < 1e15 { return String(Int(v)) }
        return String(v)
    }

    static func csvField(_ s: String) -> String {
        guard s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" }) else { return s }
        return "\"" + s.replacingAll("\"", with: "\"\"") + "\""
    }
}

private extension String {
    func replacingAll(_ target: Character, with replacement: String) -> String {
        var out = ""
        for ch in self { if ch == target { out += replacement } else { out.append(ch) } }
        return out
    }
}
