import Geometry

/// One scored landmark of one case: predicted and true voxel coordinates (numpy axis order) and
/// the radial error in the spacing's units (mm).
public struct LandmarkRow: Sendable, Equatable, Codable {
    public var caseName: String
    public var landmark: String
    public var predicted: [Double]
    public var truth: [Double]
    public var error: Double

    public init(caseName: String, landmark: String, predicted: [Double], truth: [Double], error: Double) {
        self.caseName = caseName
        self.landmark = landmark
        self.predicted = predicted
        self.truth = truth
        self.error = error
    }
}

/// Landmark localisation scored per case and summarised per landmark (METHODS §5.6, §7): radial
/// errors in mm with the image's (anisotropic) spacing, MRE ± sd and SDR at given radii. A
/// landmark the ground truth lacks is skipped for that case, so it counts in no mean.
public enum LandmarkReport {
    /// Per-landmark and overall statistics. `mre` is the mean over every scored (case, landmark)
    /// error, `sdr[i]` the percentage within `radii[i]`.
    public struct Entry: Sendable, Equatable {
        public var name: String
        public var mre: Double
        public var std: Double
        public var n: Int
        public var sdr: [Double]
    }

    public struct Scores: Sendable, Equatable {
        public var radii: [Double]
        /// In the dataset's landmark order, landmarks never scored left out.
        public var landmarks: [Entry]
        public var overall: Entry
    }

    /// Rows for one case. `truth` may lack landmarks (skipped); a true landmark outside the image
    /// (beyond half a voxel of the border) is an error naming the case and landmark.
    public static func rows(caseName: String, predicted: [String: [Double]], truth: [String: [Double]], names: [String],
                            spacing: [Double], shape: [Int]) throws -> [LandmarkRow] {
        try names.compactMap { name -> LandmarkRow? in
            guard let t = truth[name] else { return nil }
            guard t.count == shape.count else {
                throw GeometryError.invalidArgument("case \(caseName): landmark \"\(name)\" has \(t.count) coordinates for a \(shape.count)D image")
            }
            if let a = t.indices.first(where: { !(t[$0] >= -0.5 && t[$0] <= Double(shape[$0]) - 0.5) }) {
                throw GeometryError.invalidArgument("case \(caseName): ground-truth landmark \"\(name)\" at voxel \(t) (numpy order) lies outside "
                                                    + "the image \(shape) along axis \(a); check its coordinates and \"space\" in the landmark file")
            }
            guard let p = predicted[name] else {
                throw GeometryError.invalidArgument("case \(caseName): no prediction for landmark \"\(name)\"")
            }
            let e = try LandmarkErrors(predicted: [p], truth: [t], spacing: spacing).radialErrors[0]
            return LandmarkRow(caseName: caseName, landmark: name, predicted: p, truth: t, error: e)
        }
    }

    public static func summary(_ rows: [LandmarkRow], names: [String], radii: [Double]) -> Scores {
        func entry(_ name: String, _ errors: [Double]) -> Entry {
            let s = Summary(errors)
            return Entry(name: name, mre: s.mean, std: s.std, n: s.n,
                         sdr: LandmarkErrors(radialErrors: errors).successDetectionRates(radii: radii))
        }
        let per = names.compactMap { name -> Entry? in
            let errors = rows.filter { $0.landmark == name }.map(\.error)
            return errors.isEmpty ? nil : entry(name, errors)
        }
        return Scores(radii: radii, landmarks: per, overall: entry("all", rows.map(\.error)))
    }

    /// The SDR column name for a radius: `sdr_2`, `sdr_2.5`.
    public static func sdrName(_ r: Double) -> String { "sdr_" + radiusText(r) }

    static func radiusText(_ r: Double) -> String { r == r.rounded() && Swift.abs(r) < 1e9 ? String(Int(r)) : "\(r)" }

    /// One decimal, by hand (Metrics does not import Foundation).
    static func percent(_ v: Double) -> String {
        guard v.isFinite else { return v.isNaN ? "nan" : "inf" }
        let tenths = Int((v * 10).rounded())
        return "\(tenths / 10).\(Swift.abs(tenths % 10))"
    }

    /// Validation/`evaluate` means: `mre` and one `sdr_R` per radius (empty without rows).
    public static func means(_ s: Scores) -> [String: Double] {
        guard s.overall.n > 0 else { return [:] }
        var out = ["mre": s.overall.mre]
        for (r, v) in zip(s.radii, s.overall.sdr) { out[sdrName(r)] = v }
        return out
    }

    /// `case,landmark,error_mm,pred_0,…,true_0,…` (numpy axis order).
    public static func csv(_ rows: [LandmarkRow]) -> String {
        let rank = rows.first?.truth.count ?? 0
        var out = "case,landmark,error_mm" + (0..<rank).map { ",pred_\($0)" }.joined() + (0..<rank).map { ",true_\($0)" }.joined() + "\n"
        for r in rows {
            out += "\(csvField(r.caseName)),\(csvField(r.landmark)),\(r.error)"
                + r.predicted.map { ",\($0)" }.joined() + r.truth.map { ",\($0)" }.joined() + "\n"
        }
        return out
    }

    /// `{"radii":[…],"mre":…,"std":…,"n":…,"sdr":{"sdr_2":…},"landmarks":[{"name":…,"mre":…,"std":…,"n":…,"sdr":{…}}]}`
    /// with `null` for NaN.
    public static func json(_ s: Scores) -> String {
        func fields(_ e: Entry) -> String {
            "\"mre\":\(MetricsReport.jsonNumber(e.mre)),\"std\":\(MetricsReport.jsonNumber(e.std)),\"n\":\(e.n),\"sdr\":{"
                + zip(s.radii, e.sdr).map { "\"\(sdrName($0))\":\(MetricsReport.jsonNumber($1))" }.joined(separator: ",") + "}"
        }
        return "{\"radii\":[" + s.radii.map { MetricsReport.jsonNumber($0) }.joined(separator: ",") + "]," + fields(s.overall)
            + ",\"landmarks\":[" + s.landmarks.map { "{\"name\":\(JSONString.quoted($0.name)),\(fields($0))}" }.joined(separator: ",") + "]}"
    }

    /// Console lines: one per landmark and the overall mean.
    public static func summaryLines(_ s: Scores) -> [String] {
        func line(_ e: Entry) -> String {
            "MRE \(MetricsReport.consoleNumber(e.mre)) ± \(MetricsReport.consoleNumber(e.std)) mm, "
                + zip(s.radii, e.sdr).map { "SDR@\(radiusText($0)) mm \(percent($1)) %" }.joined(separator: ", ")
                + " (n = \(e.n))"
        }
        return s.landmarks.map { "landmark \($0.name): " + line($0) } + (s.overall.n > 0 ? ["landmarks overall: " + line(s.overall)] : [])
    }

    static func csvField(_ s: String) -> String {
        s.contains(",") || s.contains("\"") ? "\"" + s.split(separator: "\"", omittingEmptySubsequences: false).joined(separator: "\"\"") + "\"" : s
    }
}
