import Foundation
import Metrics

/// What one finished run of a comparison contributes: its per-case metrics from
/// `RUN/evaluation-val/metrics.csv` (a case's value is the mean over its foreground labels, NaN
/// skipped, so every case weighs once) and its `log.jsonl` for the learning curves.
public enum ComparisonRunData {
    public static func metricsFile(_ run: String) -> String { "\(run)/evaluation-val/metrics.csv" }

    public static func observations(run: String, variant: String, seed: Int, fold: Int, metrics: [String]) throws -> [ComparisonObservation] {
        let path = metricsFile(run)
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { throw TrainingError("\(path): cannot read the run's evaluation") }
        let lines = text.split(whereSeparator: \.isNewline).map { csvFields(String($0)) }
        guard let header = lines.first, let caseColumn = header.firstIndex(of: "case") else {
            throw TrainingError("\(path): not a metrics.csv of `contour evaluate` (no 'case' column)")
        }
        let columns = metrics.map { header.firstIndex(of: $0) }
        var order: [String] = []
        var values: [String: [[Double]]] = [:]  // case → per metric, the labels' values
        for (i, row) in lines.dropFirst().enumerated() where row.count == header.count {
            let id = row[caseColumn]
            if values[id] == nil { order.append(id); values[id] = Array(repeating: [], count: metrics.count) }
            for (m, column) in columns.enumerated() {
                guard let column else { continue }
                let field = row[column]
                guard let v = field.isEmpty ? Double.nan : Double(field) else {
                    throw TrainingError("\(path):\(i + 2): \(metrics[m]) is '\(field)', not a number")
                }
                values[id]![m].append(v)
            }
        }
        return order.flatMap { id in metrics.enumerated().compactMap { m, name -> ComparisonObservation? in
            guard columns[m] != nil else { return nil }
            return ComparisonObservation(variant: variant, seed: seed, fold: fold, caseID: id, metric: name,
                                         value: Descriptive.mean(values[id]![m]))
        } }
    }

    public static func curve(run: String, variant: String) -> ComparisonReport.Curve? {
        guard let records = try? RunLog(path: "\(run)/log.jsonl").read(), !records.isEmpty else { return nil }
        return ComparisonReport.Curve(variant: variant, records: records)
    }

    /// One CSV line's fields (double-quoted fields may hold commas and doubled quotes).
    static func csvFields(_ line: String) -> [String] {
        var fields: [String] = [], current = "", quoted = false
        var chars = line.makeIterator()
        var pending: Character? = nil
        while let ch = pending ?? chars.next() {
            pending = nil
            if quoted {
                if ch == "\"" {
                    if let next = chars.next() {
                        if next == "\"" { current.append("\"") } else { quoted = false; pending = next }
                    } else { quoted = false }
                } else { current.append(ch) }
            } else if ch == "\"" {
                quoted = true
            } else if ch == "," {
                fields.append(current); current = ""
            } else {
                current.append(ch)
            }
        }
        fields.append(current)
        return fields
    }
}
