import Foundation
import Metrics

/// The files of `contour compare`: `compare.csv` (long format), `compare.md` (tables to paste into
/// a paper), `compare.json` (every statistic) and `compare.html` (one self-contained page, inline
/// SVG, no network: the metric tables with CIs and significance marks, box/strip plots, paired
/// differences against the reference, learning curves, rank stability, the command and configs).
public enum ComparisonReport {
    /// A variant (or one of its runs) that did not produce results, with the error it stopped on.
    public struct Failure: Sendable, Equatable {
        public var variant: String
        public var run: String
        public var error: String
        public init(variant: String, run: String, error: String) {
            self.variant = variant
            self.run = run
            self.error = error
        }
    }

    /// One run's log, for the learning curves.
    public struct Curve: Sendable {
        public var variant: String
        public var records: [EpochRecord]
        public init(variant: String, records: [EpochRecord]) {
            self.variant = variant
            self.records = records
        }
    }

    public static func csv(_ observations: [ComparisonObservation]) -> String {
        var out = "variant,seed,fold,case,metric,value\n"
        for o in observations {
            out += [field(o.variant), String(o.seed), String(o.fold), field(o.caseID), o.metric, MetricsReport.jsonNumber(o.value)
                .replacingOccurrences(of: "\"", with: "").replacingOccurrences(of: "null", with: "")].joined(separator: ",") + "\n"
        }
        return out
    }

    static func field(_ s: String) -> String {
        s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" }) ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s
    }

    // MARK: Markdown

    public static func markdown(_ c: Comparison, failures: [Failure], seeds: [Int], folds: [Int]) -> String {
        var md = "Per-case metrics pooled over folds \(folds.map(String.init).joined(separator: ", ")) and seeds "
            + "\(seeds.map(String.init).joined(separator: ", ")): mean ± sd (n = cases × seeds). "
            + "Marks: Wilcoxon signed-rank test against **\(c.reference)**, Holm-adjusted over \(testCount(c)) tests; "
            + "\\* p < \(String(format: "%g", c.alpha)), \\*\\* p < 0.01, \\*\\*\\* p < 0.001; ↑ better, ↓ worse than the reference.\n\n"
        md += "| variant | " + c.metrics.map { "\($0.metric) (\(arrow($0.direction)))" }.joined(separator: " | ") + " |\n"
        md += "|---|" + c.metrics.map { _ in "---|" }.joined() + "\n"
        for v in c.variants {
            md += "| \(v)\(v == c.reference ? " (ref)" : "") |"
            for m in c.metrics {
                let s = m.variants.first { $0.variant == v }!
                var cell = "\(number(s.mean)) ± \(number(s.sd))"
                if let t = m.tests.first(where: { $0.variant == v }) { cell += " " + markText(t, alpha: c.alpha, escaped: true) }
                md += " \(cell.trimmingCharacters(in: .whitespaces)) |"
            }
            md += "\n"
        }
        for m in c.metrics {
            md += "\n**\(m.metric)** (\(m.direction) is better)\n\n"
            md += "| variant | n | mean ± sd | median | \(Int((c.confidence * 100).rounded())) % CI of the mean | median Δ | rank-biserial | p | p (Holm) | rank 1 |\n"
            md += "|---|---|---|---|---|---|---|---|---|---|\n"
            for (i, s) in m.variants.enumerated() {
                let t = m.tests.first { $0.variant == s.variant }
                let p = t.map { $0.p.map(pValue) ?? "n/a (\($0.pairs) pairs)" } ?? "ref"
                let ph = t.map { $0.pHolm.map(pValue) ?? "n/a" } ?? "–"
                md += "| \(s.variant) | \(s.n)\(s.nonFinite > 0 ? " (+\(s.nonFinite) non-finite)" : "") | \(number(s.mean)) ± \(number(s.sd)) "
                    + "| \(number(s.median)) | [\(number(s.ci.lower)), \(number(s.ci.upper))] | \(t.map { number($0.medianDifference) } ?? "–") "
                    + "| \(t.map { number($0.rankBiserial) } ?? "–") | \(p) | \(ph)\(t.map { " " + markText($0, alpha: c.alpha, escaped: true) } ?? "") "
                    + "| \(percent(m.rankFrequencies[i].first ?? 0)) |\n"
            }
        }
        if !failures.isEmpty {
            md += "\nFailed (left out of the statistics):\n\n"
            for f in failures { md += "- \(f.variant) (\(f.run)): \(f.error.replacingOccurrences(of: "\n", with: " "))\n" }
        }
        return md
    }

    static func testCount(_ c: Comparison) -> Int { c.metrics.flatMap(\.tests).filter { $0.pHolm != nil }.count }

    static func markText(_ t: Comparison.PairedTest, alpha: Double, escaped: Bool) -> String {
        let stars = Comparison.mark(t.pHolm, alpha: alpha)
        let sign = t.verdict == "better" ? "↑" : t.verdict == "worse" ? "↓" : t.verdict == "higher" ? "↗" : t.verdict == "lower" ? "↘" : ""
        let s = stars + sign
        return escaped ? s.replacingOccurrences(of: "*", with: "\\*") : s
    }

    static func arrow(_ direction: String) -> String {
        direction == MetricDirection.higherIsBetter.rawValue ? "↑" : direction == MetricDirection.lowerIsBetter.rawValue ? "↓" : "→0"
    }

    static func number(_ v: Double) -> String { RunReport.format(v) }
    static func pValue(_ p: Double) -> String { p < 1e-4 ? String(format: "%.1e", p) : String(format: "%.4f", p) }
    static func percent(_ f: Double) -> String { String(format: "%.0f %%", f * 100) }

    // MARK: JSON

    /// `compare.json`: the comparison (NaN as null, ±∞ as "inf"/"-inf"), the failures and the runs' plan.
    public static func json(_ c: Comparison, failures: [Failure], seeds: [Int], folds: [Int], command: String) throws -> String {
        struct Document: Encodable {
            var command: String
            var seeds: [Int]
            var folds: [Int]
            var comparison: Comparison
            var failures: [[String: String]]
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "\u{1}nan")
        let doc = Document(command: command, seeds: seeds, folds: folds, comparison: c,
                           failures: failures.map { ["variant": $0.variant, "run": $0.run, "error": $0.error] })
        let text = String(decoding: try encoder.encode(doc), as: UTF8.self)
        return text.replacingOccurrences(of: "\"\\u0001nan\"", with: "null") + "\n"
    }

    // MARK: HTML

    static let colours = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#7f7f7f"]

    public static func html(_ c: Comparison, observations: [ComparisonObservation], failures: [Failure], curves: [Curve],
                            command: String, configs: [(name: String, text: String)], seeds: [Int], folds: [Int]) -> String {
        let esc = RunReport.escape
        var body = "<h1>Comparison: \(c.variants.map(esc).joined(separator: " · "))</h1>\n"
        body += "<p>Per-case metrics of the validation folds \(folds.map(String.init).joined(separator: ", ")), pooled over folds, "
            + "for seeds \(seeds.map(String.init).joined(separator: ", ")); every case × seed is one observation. Reference: <b>\(esc(c.reference))</b>. "
            + "Tests: Wilcoxon signed-rank on paired cases (exact for ≤ 50 pairs without ties or zeros, else normal approximation with tie correction), "
            + "Holm-adjusted over \(testCount(c)) tests; * p &lt; \(String(format: "%g", c.alpha)), ** p &lt; 0.01, *** p &lt; 0.001; ↑ better, ↓ worse. "
            + "CIs: percentile bootstrap of the mean, \(c.resamples) resamples; ranks: \(c.rankResamples) bootstrap resamples of the cases every variant scored.</p>\n"
        if !failures.isEmpty {
            body += "<h2>Failed</h2><ul class=failed>"
            for f in failures { body += "<li><b>\(esc(f.variant))</b> (\(esc(f.run))): <code>\(esc(f.error))</code></li>" }
            body += "</ul>\n"
        }
        body += "<h2>Metrics</h2>\n"
        for m in c.metrics { body += metricTable(m, c) }
        let colour = Dictionary(uniqueKeysWithValues: c.variants.enumerated().map { ($0.element, colours[$0.offset % colours.count]) })
        body += "<h2>Per-case values</h2>\n<div class=charts>"
        for m in c.metrics {
            let values = c.variants.map { v in observations.filter { $0.variant == v && $0.metric == m.metric && $0.value.isFinite }.map(\.value) }
            body += boxStrip(title: m.metric, variants: c.variants, values: values, colour: colour)
        }
        body += "</div>\n<h2>Paired differences against \(esc(c.reference))</h2>\n<div class=charts>"
        for m in c.metrics {
            body += differences(m, c, observations: observations, colour: colour)
        }
        body += "</div>\n<h2>Learning curves</h2>\n<p>Mean over each variant's runs (seeds × folds) with a band of ± one standard deviation.</p><div class=charts>"
        let quantities: [(String, (EpochRecord) -> Double?)] = [("training loss", { $0.trainLoss })]
            + (["dice", "hd95", "cldice", "betti0_error"].map { name in ("validation \(name)", { (r: EpochRecord) in r.validation?[name] }) })
        for (title, read) in quantities {
            let series = c.variants.map { v in (v, curves.filter { $0.variant == v }.map { $0.records.compactMap { r in read(r).map { (r.epoch, $0) } } }) }
            guard series.contains(where: { !$0.1.flatMap { $0 }.isEmpty }) else { continue }
            body += band(title: title, series: series, colour: colour)
        }
        body += "</div>\n<h2>Rank stability</h2>\n<p>How often each variant ranked 1st, 2nd, … (by its mean) over bootstrap resamples of the cases.</p><div class=charts>"
        for m in c.metrics { body += rankBars(m, c) }
        body += "</div>\n<h2>Command</h2>\n<pre>\(esc(command))</pre>\n<h2>Configurations</h2>\n"
        for cfg in configs { body += "<details><summary>\(esc(cfg.name))</summary><pre>\(esc(cfg.text))</pre></details>\n" }
        return """
        <!DOCTYPE html><html><head><meta charset="utf-8"><title>contour compare</title><style>
        body{font-family:system-ui,sans-serif;margin:2em;color:#222;background:#fff;max-width:1400px}
        .charts{display:flex;flex-wrap:wrap;gap:1.5em}
        table{border-collapse:collapse;margin-bottom:1em}td,th{border:1px solid #ccc;padding:.3em .7em;text-align:right}
        td:first-child,th:first-child{text-align:left}.better{background:#e3f4e3}.worse{background:#fbe3e3}
        pre{background:#f6f6f6;padding:.6em;overflow-x:auto}svg text{font-size:11px;fill:#333}.failed code{color:#a00}
        </style></head><body>
        \(body)</body></html>
        """
    }

    static func metricTable(_ m: Comparison.MetricResult, _ c: Comparison) -> String {
        var html = "<table class=metric data-metric=\"\(RunReport.escape(m.metric))\"><caption>\(RunReport.escape(m.metric)) (\(m.direction) is better)</caption>"
            + "<tr><th>variant</th><th>n</th><th>mean ± sd</th><th>median</th><th>\(Int((c.confidence * 100).rounded())) % CI</th>"
            + "<th>median Δ</th><th>rank-biserial</th><th>p</th><th>p (Holm)</th><th></th><th>P(rank 1)</th></tr>"
        for (i, s) in m.variants.enumerated() {
            let t = m.tests.first { $0.variant == s.variant }
            let cls = t.map { $0.verdict == "better" || $0.verdict == "worse" ? " class=\($0.verdict)" : "" } ?? ""
            html += "<tr\(cls)><td>\(RunReport.escape(s.variant))\(t == nil ? " (reference)" : "")</td><td>\(s.n)</td>"
                + "<td>\(number(s.mean)) ± \(number(s.sd))</td><td>\(number(s.median))</td><td>[\(number(s.ci.lower)), \(number(s.ci.upper))]</td>"
                + "<td>\(t.map { number($0.medianDifference) } ?? "–")</td><td>\(t.map { number($0.rankBiserial) } ?? "–")</td>"
                + "<td>\(t.map { $0.p.map(pValue) ?? "n/a" } ?? "–")</td><td>\(t.map { $0.pHolm.map(pValue) ?? "not applicable (\($0.pairs) pairs)" } ?? "–")</td>"
                + "<td>\(t.map { markText($0, alpha: c.alpha, escaped: false) } ?? "")</td><td>\(percent(m.rankFrequencies[i].first ?? 0))</td></tr>"
        }
        return html + "</table>\n"
    }

    /// Scales a value range onto [top, bottom] pixels with a little padding.
    static func scale(_ values: [Double], top: Double, bottom: Double) -> (Double) -> Double {
        var lo = values.min() ?? 0, hi = values.max() ?? 1
        if hi - lo < 1e-12 { lo -= Swift.max(Swift.abs(lo) * 0.1, 1e-3); hi += Swift.max(Swift.abs(hi) * 0.1, 1e-3) }
        let pad = (hi - lo) * 0.05
        lo -= pad; hi += pad
        return { v in bottom - (v - lo) / (hi - lo) * (bottom - top) }
    }

    static func frame(_ title: String, width: Double, height: Double, left: Double, top: Double, bottom: Double, kind: String) -> String {
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" role=\"img\" class=\"\(kind)\" aria-label=\"\(RunReport.escape(title))\">"
            + "<text x=\"\(left)\" y=\"16\">\(RunReport.escape(title))</text>"
            + "<rect x=\"\(left)\" y=\"\(top)\" width=\"\(width - left - 12)\" height=\"\(height - top - bottom)\" fill=\"none\" stroke=\"#999\"/>"
    }

    /// Box (quartiles, whiskers to the furthest point within 1.5 IQR) with every case as a dot.
    static func boxStrip(title: String, variants: [String], values: [[Double]], colour: [String: String]) -> String {
        let w = Swift.max(300.0, 70 + 90 * Double(variants.count)), h = 260.0, left = 56.0, top = 24.0, bottom = 40.0
        var svg = frame(title, width: w, height: h, left: left, top: top, bottom: bottom, kind: "box")
        let all = values.flatMap { $0 }
        guard !all.isEmpty else { return svg + "<text x=\"\(left + 10)\" y=\"\(h / 2)\">no data</text></svg>" }
        let sy = scale(all, top: top, bottom: h - bottom)
        svg += axisLabels(all, sy: sy, h: h, top: top, bottom: bottom)
        let slot = (w - left - 12) / Double(variants.count)
        for (i, v) in variants.enumerated() {
            let x = left + slot * (Double(i) + 0.5), col = colour[v] ?? "#333"
            svg += "<text x=\"\(x)\" y=\"\(h - bottom + 16)\" text-anchor=\"middle\">\(RunReport.escape(short(v)))</text>"
            let s = values[i].sorted()
            guard !s.isEmpty else { continue }
            let q1 = Descriptive.quantile(sorted: s, 0.25), q2 = Descriptive.quantile(sorted: s, 0.5), q3 = Descriptive.quantile(sorted: s, 0.75)
            let iqr = q3 - q1
            let lo = s.first { $0 >= q1 - 1.5 * iqr } ?? s[0], hi = s.last { $0 <= q3 + 1.5 * iqr } ?? s[s.count - 1]
            let bw = Swift.min(40, slot * 0.5)
            svg += String(format: "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#555\"/>", x, x, sy(lo), sy(hi))
            svg += String(format: "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%@\" fill-opacity=\"0.25\" stroke=\"%@\"/>",
                          x - bw / 2, sy(q3), bw, Swift.max(1, sy(q1) - sy(q3)), col, col)
            svg += String(format: "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"%@\" stroke-width=\"2\"/>", x - bw / 2, x + bw / 2, sy(q2), sy(q2), col)
            for (k, value) in values[i].enumerated() {
                // Deterministic jitter (golden-ratio sequence) so repeated values stay visible.
                let jitter = (Double(k) * 0.618_033_988_75).truncatingRemainder(dividingBy: 1) - 0.5
                svg += String(format: "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2.2\" fill=\"%@\" fill-opacity=\"0.7\"/>", x + jitter * bw * 0.8, sy(value), col)
            }
        }
        return svg + "</svg>"
    }

    static func axisLabels(_ values: [Double], sy: (Double) -> Double, h: Double, top: Double, bottom: Double) -> String {
        guard let lo = values.min(), let hi = values.max() else { return "" }
        return String(format: "<text x=\"4\" y=\"%.1f\">%@</text><text x=\"4\" y=\"%.1f\">%@</text>", sy(hi) + 4, number(hi), sy(lo) + 4, number(lo))
    }

    static func short(_ s: String) -> String { s.count > 14 ? String(s.prefix(13)) + "…" : s }

    /// Per variant, each paired case's difference (variant − reference) as a dot, the median as a bar, 0 as a line.
    static func differences(_ m: Comparison.MetricResult, _ c: Comparison, observations: [ComparisonObservation], colour: [String: String]) -> String {
        struct Key: Hashable { var seed: Int, fold: Int, caseID: String }
        let others = c.variants.filter { $0 != c.reference }
        var ref: [Key: Double] = [:]
        for o in observations where o.variant == c.reference && o.metric == m.metric && o.value.isFinite {
            ref[Key(seed: o.seed, fold: o.fold, caseID: o.caseID)] = o.value
        }
        let diffs: [[Double]] = others.map { v in observations.filter { $0.variant == v && $0.metric == m.metric && $0.value.isFinite }
            .compactMap { o in ref[Key(seed: o.seed, fold: o.fold, caseID: o.caseID)].map { o.value - $0 } } }
        let w = Swift.max(300.0, 70 + 90 * Double(Swift.max(others.count, 1))), h = 260.0, left = 56.0, top = 24.0, bottom = 40.0
        var svg = frame("\(m.metric): variant − \(c.reference)", width: w, height: h, left: left, top: top, bottom: bottom, kind: "diff")
        let all: [Double] = diffs.flatMap { $0 } + [0.0]
        let sy = scale(all, top: top, bottom: h - bottom)
        svg += axisLabels(all, sy: sy, h: h, top: top, bottom: bottom)
        svg += String(format: "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#999\" stroke-dasharray=\"4 3\"/>", left, w - 12, sy(0), sy(0))
        guard !others.isEmpty else { return svg + "</svg>" }
        let slot = (w - left - 12) / Double(others.count)
        for (i, v) in others.enumerated() {
            let x = left + slot * (Double(i) + 0.5), col = colour[v] ?? "#333"
            let t = m.tests.first { $0.variant == v }
            svg += "<text x=\"\(x)\" y=\"\(h - bottom + 16)\" text-anchor=\"middle\">\(RunReport.escape(short(v))) \(t.map { markText($0, alpha: c.alpha, escaped: false) } ?? "")</text>"
            for (k, d) in diffs[i].enumerated() {
                let jitter = (Double(k) * 0.618_033_988_75).truncatingRemainder(dividingBy: 1) - 0.5
                svg += String(format: "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2.2\" fill=\"%@\" fill-opacity=\"0.7\"/>", x + jitter * slot * 0.4, sy(d), col)
            }
            if !diffs[i].isEmpty {
                let med = Descriptive.median(diffs[i])
                svg += String(format: "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#000\" stroke-width=\"2\"/>", x - slot * 0.3, x + slot * 0.3, sy(med), sy(med))
            }
        }
        return svg + "</svg>"
    }

    /// Mean over runs per epoch with a ± sd band, one colour per variant.
    static func band(title: String, series: [(String, [[(Int, Double)]])], colour: [String: String]) -> String {
        let w = 420.0, h = 260.0, left = 56.0, top = 24.0, bottom = 30.0
        var svg = frame(title, width: w, height: h, left: left, top: top, bottom: bottom, kind: "curve")
        var stats: [(String, [(Double, Double, Double)])] = []
        for (v, runs) in series {
            var byEpoch: [Int: [Double]] = [:]
            for run in runs { for (e, value) in run where value.isFinite { byEpoch[e, default: []].append(value) } }
            stats.append((v, byEpoch.keys.sorted().map { e in
                let xs = byEpoch[e]!
                let sd = xs.count > 1 ? Descriptive.standardDeviation(xs) : 0
                return (Double(e), Descriptive.mean(xs), sd)
            }))
        }
        let xs = stats.flatMap { $0.1.map(\.0) }, ys = stats.flatMap { $0.1.flatMap { [$0.1 - $0.2, $0.1 + $0.2] } }
        guard let minX = xs.min(), let maxX = xs.max(), !ys.isEmpty else { return svg + "<text x=\"\(left + 10)\" y=\"\(h / 2)\">no data</text></svg>" }
        let sy = scale(ys, top: top, bottom: h - bottom)
        let sx = { (x: Double) in left + (maxX > minX ? (x - minX) / (maxX - minX) : 0.5) * (w - left - 12) }
        svg += axisLabels(ys, sy: sy, h: h, top: top, bottom: bottom)
        svg += "<text x=\"\(left)\" y=\"\(h - 10)\">epoch \(Int(minX))</text><text x=\"\(w - 12)\" y=\"\(h - 10)\" text-anchor=\"end\">epoch \(Int(maxX))</text>"
        for (i, (v, points)) in stats.enumerated() where !points.isEmpty {
            let col = colour[v] ?? "#333"
            let upper = points.map { String(format: "%.1f,%.1f", sx($0.0), sy($0.1 + $0.2)) }
            let lower = points.reversed().map { String(format: "%.1f,%.1f", sx($0.0), sy($0.1 - $0.2)) }
            svg += "<polygon points=\"\((upper + lower).joined(separator: " "))\" fill=\"\(col)\" fill-opacity=\"0.15\" stroke=\"none\"/>"
            let line = points.map { String(format: "%.1f,%.1f", sx($0.0), sy($0.1)) }.joined(separator: " ")
            svg += points.count > 1 ? "<polyline fill=\"none\" stroke=\"\(col)\" stroke-width=\"2\" points=\"\(line)\"/>"
                : String(format: "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%@\"/>", sx(points[0].0), sy(points[0].1), col)
            svg += "<text x=\"\(w - 16)\" y=\"\(top + 14 + 13 * Double(i))\" text-anchor=\"end\" fill=\"\(col)\" style=\"fill:\(col)\">\(RunReport.escape(short(v)))</text>"
        }
        return svg + "</svg>"
    }

    /// One stacked bar per variant: the share of resamples at each rank (rank 1 darkest).
    static func rankBars(_ m: Comparison.MetricResult, _ c: Comparison) -> String {
        let k = c.variants.count
        let w = 420.0, left = 110.0, top = 24.0, bar = 18.0
        let h = top + Double(k) * (bar + 8) + 34
        var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(w))\" height=\"\(Int(h))\" role=\"img\" class=\"rank\" aria-label=\"ranks \(RunReport.escape(m.metric))\">"
            + "<text x=\"4\" y=\"16\">\(RunReport.escape(m.metric)): rank frequencies (\(m.rankedCases) cases)</text>"
        let shades = (0..<k).map { r -> String in
            let t = k > 1 ? Double(r) / Double(k - 1) : 0
            return String(format: "#%02x%02x%02x", Int(31 + t * 190), Int(119 + t * 100), Int(180 + t * 50))
        }
        for (i, v) in c.variants.enumerated() {
            let y = top + Double(i) * (bar + 8)
            svg += "<text x=\"4\" y=\"\(y + 13)\">\(RunReport.escape(short(v)))</text>"
            var x = left
            for (r, f) in m.rankFrequencies[i].enumerated() where f > 0 {
                let width = f * (w - left - 12)
                svg += String(format: "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%@\"><title>rank %d: %@</title></rect>", x, y, width, bar, shades[r], r + 1, percent(f))
                if width > 26 { svg += String(format: "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" style=\"fill:#fff\">%d</text>", x + width / 2, y + 13, r + 1) }
                x += width
            }
        }
        svg += "<text x=\"\(left)\" y=\"\(h - 8)\">0 %</text><text x=\"\(w - 12)\" y=\"\(h - 8)\" text-anchor=\"end\">100 %</text>"
        return svg + "</svg>"
    }
}
