import Foundation
import Geometry
import Imaging
import Metrics

/// `report.html`: one self-contained page (inline SVG charts, embedded PNG overlays, no
/// network) with the loss and metric curves, the final metrics, and overlays of validation
/// cases (best, median, worst by Dice).
public enum RunReport {
    public struct Overlay {
        public var caseID: String
        public var dice: Double
        public var image: Grid<Float>
        public var truth: Grid<UInt8>
        public var prediction: Grid<UInt8>
        public init(caseID: String, dice: Double, image: Grid<Float>, truth: Grid<UInt8>, prediction: Grid<UInt8>) {
            self.caseID = caseID
            self.dice = dice
            self.image = image
            self.truth = truth
            self.prediction = prediction
        }
    }

    public static func html(title: String, records: [EpochRecord], finalMetrics: [(name: String, mean: Double, std: Double, n: Int)],
                            overlays: [Overlay], notes: [String] = [], labels: [LabelSummary] = [],
                            landmarks: LandmarkReport.Scores? = nil) throws -> String {
        var body = "<h1>\(escape(title))</h1>\n"
        for n in notes { body += "<p>\(escape(n))</p>\n" }
        body += "<h2>Training</h2>\n<div class=charts>"
        body += chart(title: "training loss", series: [("loss", records.map { (Double($0.epoch), $0.trainLoss) })])
        // The metrics a segmentation paper reports; the table below has all of them.
        let present = Set(records.compactMap(\.validation).flatMap(\.keys))
        let metricNames = ["dice", "hd95", "betti0_error", "betti1_error", "cldice"].filter(present.contains)
        for name in metricNames {
            let points = records.compactMap { r in r.validation?[name].map { (Double(r.epoch), $0) } }
            body += chart(title: "validation \(name)", series: [(name, points)])
        }
        body += chart(title: "learning rate", series: [("lr", records.map { (Double($0.epoch), $0.learningRate) })])
        // A balancer's weights per objective (epoch means), one curve each.
        let weighted = Set(records.compactMap(\.balancerWeights).flatMap(\.keys)).sorted()
        if !weighted.isEmpty {
            body += chart(title: "balancer weights", series: weighted.map { name in
                (name, records.compactMap { r in r.balancerWeights?[name].map { (Double(r.epoch), $0) } })
            })
        }
        body += "</div>\n<h2>Final validation metrics</h2>\n"
        if labels.isEmpty {
            body += "<table><tr><th>metric</th><th>mean</th><th>std</th><th>n</th></tr>"
            for m in finalMetrics {
                body += "<tr><td>\(escape(m.name))</td><td>\(format(m.mean))</td><td>\(format(m.std))</td><td>\(m.n)</td></tr>"
            }
            body += "</table>\n"
        } else {
            body += labelTable(labels)
        }
        if let landmarks, landmarks.overall.n > 0 {
            body += "<h2>Landmarks</h2>\n<table><tr><th>landmark</th><th>MRE (mm)</th><th>std</th><th>n</th>"
                + landmarks.radii.map { "<th>SDR ≤ \(format($0)) mm (%)</th>" }.joined() + "</tr>"
            for e in landmarks.landmarks + [landmarks.overall] {
                body += "<tr><td>\(escape(e.name))</td><td>\(format(e.mre))</td><td>\(format(e.std))</td><td>\(e.n)</td>"
                    + e.sdr.map { "<td>\(format($0))</td>" }.joined() + "</tr>"
            }
            body += "</table>\n"
        }
        if !overlays.isEmpty {
            body += "<h2>Validation cases</h2>\n<p>Image with ground truth (green) and prediction (red) outlines; overlap is yellow.</p><div class=cases>"
            for o in overlays {
                let png = try overlayPNG(o)
                body += "<figure><img alt=\"\(escape(o.caseID))\" src=\"data:image/png;base64,\(Data(png).base64EncodedString())\">"
                body += "<figcaption>\(escape(o.caseID)) — Dice \(format(o.dice))</figcaption></figure>"
            }
            body += "</div>\n"
        }
        return """
        <!DOCTYPE html><html><head><meta charset="utf-8"><title>\(escape(title))</title><style>
        body{font-family:system-ui,sans-serif;margin:2em;color:#222;background:#fff}
        .charts,.cases{display:flex;flex-wrap:wrap;gap:1.5em}
        table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.3em .8em;text-align:right}
        figure{margin:0}img{image-rendering:pixelated;width:256px;border:1px solid #ccc}
        svg text{font-size:11px;fill:#333}
        </style></head><body>
        \(body)</body></html>
        """
    }

    /// One row per metric, one column per label (mean ± std, n) and the foreground mean; metrics
    /// undefined for every label (e.g. topology off) are left out.
    static func labelTable(_ labels: [LabelSummary]) -> String {
        var html = "<table class=labels><tr><th>metric</th>"
        for l in labels { html += "<th>\(escape(l.name)) (\(l.label))</th>" }
        html += "<th>foreground mean</th></tr>"
        let foreground = LabelSummary.foregroundMean(labels)
        for (metric, mean) in foreground where !mean.isNaN {
            html += "<tr><td>\(escape(MetricsReport.displayName(metric)))</td>"
            for l in labels {
                let s = l[metric] ?? Summary([])
                html += s.n == 0 ? "<td>–</td>" : "<td>\(format(s.mean)) ± \(format(s.std)) (n = \(s.n))</td>"
            }
            html += "<td>\(format(mean))</td></tr>"
        }
        return html + "</table>\n"
    }

    static func format(_ v: Double) -> String {
        if v.isNaN { return "–" }
        if v.isInfinite { return v > 0 ? "∞" : "−∞" }
        return String(format: Swift.abs(v) >= 100 ? "%.1f" : "%.4f", v)
    }

    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }

    /// A 360×220 SVG line chart. Non-finite values (a NaN loss, an infinite HD95) are not drawn:
    /// the line breaks there and a note counts them. One epoch is one point with one axis label.
    static func chart(title: String, series: [(String, [(Double, Double)])]) -> String {
        let w = 360.0, h = 220.0, left = 56.0, right = 12.0, top = 24.0, bottom = 30.0
        let all = series.flatMap(\.1).filter { $0.0.isFinite && $0.1.isFinite }
        let skipped = series.flatMap(\.1).count - all.count
        var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(w))\" height=\"\(Int(h))\" role=\"img\" aria-label=\"\(escape(title))\">"
        svg += "<text x=\"\(left)\" y=\"16\">\(escape(title))</text>"
        if skipped > 0 {
            svg += "<text x=\"\(w - right)\" y=\"16\" text-anchor=\"end\">\(skipped) non-finite not shown</text>"
        }
        svg += "<rect x=\"\(left)\" y=\"\(top)\" width=\"\(w - left - right)\" height=\"\(h - top - bottom)\" fill=\"none\" stroke=\"#999\"/>"
        guard let minX = all.map(\.0).min(), let maxX = all.map(\.0).max(), var minY = all.map(\.1).min(), var maxY = all.map(\.1).max() else {
            return svg + "<text x=\"\(left + 10)\" y=\"\(h / 2)\">no data</text></svg>"
        }
        if maxY - minY < 1e-12 {
            let pad = Swift.max(Swift.abs(maxY) * 0.1, 1e-3)
            minY -= pad; maxY += pad
        }
        let sx = { (x: Double) in left + (maxX > minX ? (x - minX) / (maxX - minX) : 0.5) * (w - left - right) }
        let sy = { (y: Double) in top + (1 - (y - minY) / (maxY - minY)) * (h - top - bottom) }
        svg += "<text x=\"4\" y=\"\(top + 10)\">\(format(maxY))</text><text x=\"4\" y=\"\(h - bottom)\">\(format(minY))</text>"
        if maxX > minX {
            svg += "<text x=\"\(left)\" y=\"\(h - 10)\">epoch \(Int(minX))</text>"
            svg += "<text x=\"\(w - right)\" y=\"\(h - 10)\" text-anchor=\"end\">epoch \(Int(maxX))</text>"
        } else {
            svg += "<text x=\"\(sx(minX))\" y=\"\(h - 10)\" text-anchor=\"middle\">epoch \(Int(minX))</text>"
        }
        let colours = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd"]
        for (i, (_, points)) in series.enumerated() {
            let colour = colours[i % colours.count]
            // Runs of finite points, so a non-finite value breaks the line instead of bridging it.
            var runs: [[(Double, Double)]] = [[]]
            for p in points {
                if p.0.isFinite && p.1.isFinite { runs[runs.count - 1].append(p) } else if !runs[runs.count - 1].isEmpty { runs.append([]) }
            }
            for run in runs where run.count > 1 {
                let pts = run.map { String(format: "%.1f,%.1f", sx($0.0), sy($0.1)) }.joined(separator: " ")
                svg += "<polyline fill=\"none\" stroke=\"\(colour)\" stroke-width=\"2\" points=\"\(pts)\"/>"
            }
            for p in runs.joined() {
                svg += String(format: "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2.5\" fill=\"%@\"/>", sx(p.0), sy(p.1), colour)
            }
        }
        return svg + "</svg>"
    }

    /// Gray image (1st–99th percentile window) with truth (green) and prediction (red) outlines;
    /// for 3D, the slice with the most foreground.
    static func overlayPNG(_ o: Overlay) throws -> [UInt8] {
        var image = o.image, truth = o.truth, pred = o.prediction
        if image.rank == 3 {
            var bestZ = 0, bestCount = -1
            for z in 0..<image.shape[0] {
                let t = truth.slice(z: z), p = pred.slice(z: z)
                let c = t.storage.filter { $0 != 0 }.count + p.storage.filter { $0 != 0 }.count
                if c > bestCount { bestCount = c; bestZ = z }
            }
            image = image.slice(z: bestZ); truth = truth.slice(z: bestZ); pred = pred.slice(z: bestZ)
        }
        let h = image.shape[0], w = image.shape[1]
        let sorted = image.storage.filter(\.isFinite).sorted()
        let lo = sorted.isEmpty ? 0 : sorted[sorted.count / 100], hi = sorted.isEmpty ? 1 : sorted[(sorted.count * 99) / 100]
        let scale = hi > lo ? 255 / (hi - lo) : 0
        func edge(_ g: Grid<UInt8>, _ y: Int, _ x: Int) -> Bool {
            let v = g[y, x]
            guard v != 0 else { return false }
            return y == 0 || x == 0 || y == h - 1 || x == w - 1 || g[y - 1, x] != v || g[y + 1, x] != v || g[y, x - 1] != v || g[y, x + 1] != v
        }
        var rgb = [UInt8](repeating: 0, count: w * h * 3)
        for y in 0..<h {
            for x in 0..<w {
                let v = image[y, x].isFinite ? UInt8(clamping: Int(((image[y, x] - lo) * scale).rounded())) : 0
                var px = (v, v, v)
                let t = edge(truth, y, x), p = edge(pred, y, x)
                if t && p { px = (255, 230, 0) } else if t { px = (0, 220, 0) } else if p { px = (240, 0, 0) }
                let i = (y * w + x) * 3
                rgb[i] = px.0; rgb[i + 1] = px.1; rgb[i + 2] = px.2
            }
        }
        return try PNGFile.encodeRGB(rgb, width: w, height: h)
    }
}
