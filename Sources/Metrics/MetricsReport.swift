/// Text forms of evaluation rows: the `contour metrics --json` document and CSV.
public enum MetricsReport {
    /// The columns of `--json`, in order (the fixed schema).
    public static let jsonColumns = ["dice", "iou", "precision", "recall", "bfscore", "betti0_error", "betti1_error",
                                     "cldice", "hd", "hd95", "assd"]

    /// `{"cases":[{"case":…,"label":…,"dice":…,…}],"summary":{"dice":{"mean":…,"std":…,"n":…},…}}`
    /// with `null` for NaN and `"inf"` for +inf.
    public static func json(_ rows: [CaseMetricsRow]) -> String {
        let columns = jsonColumns.map { name in CaseMetricsRow.columns.first { $0.name == name }! }
        var out = "{\"cases\":["
        out += rows.map { row in
            var fields = ["\"case\":\(jsonString(row.caseName))", "\"label\":\(row.label)"]
            for c in columns { fields.append("\"\(c.name)\":\(jsonNumber(row[keyPath: c.value]))") }
            return "{" + fields.joined(separator: ",") + "}"
        }.joined(separator: ",")
        out += "],\"summary\":{"
        out += columns.map { c in
            let s = Summary(rows.map { $0[keyPath: c.value] })
            return "\"\(c.name)\":{\"mean\":\(jsonNumber(s.mean)),\"std\":\(jsonNumber(s.std)),\"n\":\(s.n)}"
        }.joined(separator: ",")
        out += "}}"
        return out
    }

    /// One header line and one line per row, every column; NaN is empty, +inf is `inf`.
    public static func csv(_ rows: [CaseMetricsRow]) -> String {
        var lines = [(["case", "label"] + CaseMetricsRow.columns.map(\.name)).joined(separator: ",")]
        for row in rows {
            var fields = [csvField(row.caseName), String(row.label)]
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

    public static func jsonString(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if u.value < 0x20 {
                    let hex = String(u.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(u)
                }
            }
        }
        return out + "\""
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
