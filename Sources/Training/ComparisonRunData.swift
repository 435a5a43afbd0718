import Foundation
import Metrics

/// What one finished run of a comparison contributes: its per-case metrics from
/// `RUN/evaluation-val/` (so every case weighs once) and its `log.jsonl` for the learning curves.
public enum ComparisonRunData {
    public static func metricsFile(_ run: String) -> String { "\(run)/evaluation-val/metrics.csv" }
    public static func landmarksFile(_ run: String) -> String { "\(run)/evaluation-val/landmarks.csv" }

    /// Whether `contour evaluate --split val` has written its results into the run.
    public static func isEvaluated(_ run: String) -> Bool {
        FileManager.default.fileExists(atPath: metricsFile(run)) || FileManager.default.fileExists(atPath: landmarksFile(run))
    }

    /// The run's per-case values of `metrics`: segmentation metrics from metrics.csv (a case's
    /// mean over its foreground labels) and `mre` from landmarks.csv (a case's mean radial error
    /// over its landmarks, mm).
    public static func observations(run: String, variant: String, seed: Int, fold: Int, metrics: [String]) throws -> [ComparisonObservation] {
        guard isEvaluated(run) else { throw TrainingError("\(run)/evaluation-val: the run has no evaluation (metrics.csv or landmarks.csv)") }
        var out: [ComparisonObservation] = []
        let segmentation = metrics.filter { $0 != "mre" }
        if !segmentation.isEmpty, FileManager.default.fileExists(atPath: metricsFile(run)) {
            out += try perCase(file: metricsFile(run), columns: segmentation).map {
                ComparisonObservation(variant: variant, seed: seed, fold: fold, caseID: $0.caseID, metric: $0.metric, value: $0.value)
            }
        }
        if metrics.contains("mre"), FileManager.default.fileExists(atPath: landmarksFile(run)) {
            out += try perCase(file: landmarksFile(run), columns: ["error_mm"]).map {
                ComparisonObservation(variant: variant, seed: seed, fold: fold, caseID: $0.caseID, metric: "mre", value: $0.value)
            }
        }
        return out
    }

    /// Each case's mean (NaN skipped) of each column over its rows, in file order.
    static func perCase(file path: String, columns wanted: [String]) throws -> [(caseID: String, metric: String, value: Double)] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { throw TrainingError("\(path): cannot read the run's evaluation") }
        let lines = text.split(whereSeparator: \.isNewline).map { csvFields(String($0)) }
        guard let header = lines.first, let caseColumn = header.firstIndex(of: "case") else {
            throw TrainingError("\(path): not a file of `contour evaluate` (no 'case' column)")
        }
        let columns = wanted.map { header.firstIndex(of: $0) }
        var order: [String] = []
        var values: [String: [[Double]]] = [:]  // case → per column, its rows' values
        for (i, row) in lines.dropFirst().enumerated() where row.count == header.count {
            let id = row[caseColumn]
            if values[id] == nil { order.append(id); values[id] = Array(repeating: [], count: wanted.count) }
            for (m, column) in columns.enumerated() {
                guard let column else { continue }
                let field = row[column]
                guard let v = field.isEmpty ? Double.nan : Double(field) else {
                    throw TrainingError("\(path):\(i + 2): \(wanted[m]) is '\(field)', not a number")
                }
                values[id]![m].append(v)
            }
        }
        return order.flatMap { id in wanted.enumerated().compactMap { m, name in
            columns[m] == nil ? nil : (id, name, Descriptive.mean(values[id]![m]))
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
