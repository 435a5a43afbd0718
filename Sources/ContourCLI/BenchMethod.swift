import ArgumentParser
import Foundation
import Geometry
import Metrics

/// The one timing method of every `contour bench …`: untimed warm-up rounds, then interleaved
/// rounds in which every arm runs once in a seeded random order, so that all arms see the same
/// machine state. Each arm times only its own work (a reference worker reports its own
/// milliseconds), so pipe traffic and Python start-up are never timed. A comparison is the
/// median of the per-round time ratios with a seeded percentile-bootstrap 95 % interval.
struct BenchMethod {
    var warmup = 2
    var rounds = 10
    var seed: UInt64 = 20_261_126
    var resamples = 10_000

    /// Fewer rounds than this and the interval is too coarse to mean much.
    static let minimumRounds = 10
    /// An interval reaching further than this fraction from its median gets a warning.
    static let wideInterval = 0.05

    init(warmup: Int = 2, rounds: Int = 10, seed: UInt64 = 20_261_126) throws {
        guard warmup >= 0 else { throw ValidationError("--warmup \(warmup): expected ≥ 0") }
        guard rounds >= 2 else { throw ValidationError("--rounds \(rounds): expected ≥ 2 (≥ \(Self.minimumRounds) for a trustworthy interval)") }
        (self.warmup, self.rounds, self.seed) = (warmup, rounds, seed)
    }

    /// The arm order of every round (warm-up rounds first): a seeded random permutation per round.
    static func order(arms: Int, rounds: Int, seed: UInt64) -> [[Int]] {
        var generator = SeededGenerator(seed: seed)
        return (0..<rounds).map { _ in Array(0..<arms).shuffled(using: &generator) }
    }

    /// Runs every arm once per round in `order`; each arm returns its own milliseconds.
    /// Returns the timed (post-warm-up) samples per arm.
    func run(_ arms: [() throws -> Double], progress: ((Int, Int) -> Void)? = nil) throws -> [[Double]] {
        var samples = [[Double]](repeating: [], count: arms.count)
        for (round, order) in Self.order(arms: arms.count, rounds: warmup + rounds, seed: seed).enumerated() {
            for arm in order {
                let ms = try arms[arm]()
                if round >= warmup { samples[arm].append(ms) }
            }
            progress?(round + 1, warmup + rounds)
        }
        return samples
    }

    /// Milliseconds `body` takes.
    static func milliseconds(_ body: () throws -> Void) rethrows -> Double {
        let t0 = DispatchTime.now().uptimeNanoseconds
        try body()
        return Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6
    }

    /// The median of the per-round ratios contour[i] / reference[i] and its percentile-bootstrap
    /// 95 % interval (`resamples` seeded resamples of the rounds; Metrics' Bootstrap).
    func ratio(_ contour: [Double], _ reference: [Double]) -> (ratio: Double, low: Double, high: Double) {
        ratio(contour, reference, resamples: Bootstrap.resamples(n: min(contour.count, reference.count), count: resamples, seed: seed))
    }

    /// The same with given resamples (index lists into the rounds).
    func ratio(_ contour: [Double], _ reference: [Double], resamples: [[Int]]) -> (ratio: Double, low: Double, high: Double) {
        let ratios = zip(contour, reference).map { $0 / $1 }
        guard !ratios.isEmpty else { return (.nan, .nan, .nan) }
        let ci = Bootstrap.percentileInterval(ratios, resamples: resamples, statistic: Descriptive.median)
        return (Descriptive.median(ratios), ci.lower, ci.upper)
    }

    /// A result row: Contour's samples against a reference's (nil when the reference is missing).
    func record(bench: String, name: String, size: String, contour: [Double], reference: [Double]?, referenceName: String,
                threads: Int, agree: Bool? = nil, note: String? = nil) -> BenchRecord {
        var r = BenchRecord(bench: bench, name: name, size: size, contourMs: Descriptive.median(contour), rounds: contour.count,
                            threads: threads, reference: referenceName, agree: agree, note: note)
        if let reference, reference.count == contour.count, !reference.isEmpty {
            let (m, lo, hi) = ratio(contour, reference)
            r.referenceMs = Descriptive.median(reference)
            (r.ratio, r.ciLow, r.ciHigh) = (m, lo, hi)
        }
        return r
    }
}

/// One row of a benchmark, the schema every `contour bench … --json` prints (an array of these).
/// `ratio` is Contour's time over the reference's (< 1: Contour is faster), the median of the
/// per-round ratios; `ci_low`/`ci_high` its 95 % bootstrap interval. Missing values are null.
struct BenchRecord: Codable, Equatable {
    var bench: String
    var name: String
    var size: String
    var contourMs: Double
    var referenceMs: Double?
    var ratio: Double?
    var ciLow: Double?
    var ciHigh: Double?
    var rounds: Int
    var threads: Int
    var reference: String
    var agree: Bool?
    var note: String?

    static let keys = ["bench", "name", "size", "contour_ms", "reference_ms", "ratio", "ci_low", "ci_high", "rounds", "threads",
                       "reference", "agree", "note"]

    enum CodingKeys: String, CodingKey {
        case bench, name, size, contourMs = "contour_ms", referenceMs = "reference_ms", ratio, ciLow = "ci_low", ciHigh = "ci_high",
             rounds, threads, reference, agree, note
    }

    init(bench: String, name: String, size: String, contourMs: Double, referenceMs: Double? = nil, ratio: Double? = nil,
         ciLow: Double? = nil, ciHigh: Double? = nil, rounds: Int, threads: Int, reference: String, agree: Bool? = nil, note: String? = nil) {
        (self.bench, self.name, self.size, self.contourMs, self.referenceMs) = (bench, name, size, contourMs, referenceMs)
        (self.ratio, self.ciLow, self.ciHigh, self.rounds, self.threads) = (ratio, ciLow, ciHigh, rounds, threads)
        (self.reference, self.agree, self.note) = (reference, agree, note)
    }

    // Every key is always written (null when missing), so all rows share one schema.
    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(bench, forKey: .bench)
        try c.encode(name, forKey: .name)
        try c.encode(size, forKey: .size)
        try c.encode(Self.finite(contourMs), forKey: .contourMs)
        try c.encode(Self.finite(referenceMs), forKey: .referenceMs)
        try c.encode(Self.finite(ratio), forKey: .ratio)
        try c.encode(Self.finite(ciLow), forKey: .ciLow)
        try c.encode(Self.finite(ciHigh), forKey: .ciHigh)
        try c.encode(rounds, forKey: .rounds)
        try c.encode(threads, forKey: .threads)
        try c.encode(reference, forKey: .reference)
        try c.encode(agree, forKey: .agree)
        try c.encode(note, forKey: .note)
    }

    private static func finite(_ v: Double?) -> Double? { v.flatMap { $0.isFinite ? $0 : nil } }

    /// Whether the interval reaches further than ±`BenchMethod.wideInterval` from the ratio.
    var intervalIsWide: Bool {
        guard let ratio, let ciLow, let ciHigh else { return false }
        return ciHigh > ratio * (1 + BenchMethod.wideInterval) || ciLow < ratio * (1 - BenchMethod.wideInterval)
    }

    /// The rows as pretty JSON (sorted keys).
    static func json(_ records: [BenchRecord]) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(records), as: UTF8.self)
    }

    /// The rows as a text table, with a warning under each interval wider than ±5 % and the notes.
    static func table(_ records: [BenchRecord]) -> String {
        func pad(_ s: String, _ n: Int, left: Bool = false) -> String {
            let fill = String(repeating: " ", count: max(0, n - s.count))
            return left ? fill + s : s + fill
        }
        func f(_ v: Double?, _ format: String) -> String { v.map { String(format: format, $0) } ?? "-" }
        var lines = [[pad("name", 22), pad("size", 22), pad("contour ms", 11, left: true), pad("ref ms", 10, left: true),
                      pad("ratio", 7, left: true), pad("95 % CI", 15, left: true), pad("rounds", 7, left: true),
                      pad("thr", 4, left: true), pad("agree", 6, left: true), "  reference"].joined(separator: " ")]
        var wide: [String] = [], notes: [String] = []
        for r in records {
            let ci = r.ciLow.map { lo in String(format: "%.3f–%.3f", lo, r.ciHigh ?? .nan) } ?? "-"
            lines.append([pad(r.name, 22), pad(r.size, 22), pad(f(r.contourMs, "%.2f"), 11, left: true),
                          pad(f(r.referenceMs, "%.2f"), 10, left: true), pad(f(r.ratio, "%.3f"), 7, left: true), pad(ci, 15, left: true),
                          pad("\(r.rounds)", 7, left: true), pad("\(r.threads)", 4, left: true),
                          pad(r.agree.map { $0 ? "yes" : "NO" } ?? "-", 6, left: true), "  " + r.reference].joined(separator: " "))
            if r.intervalIsWide { wide.append(r.name) }
            if let note = r.note { notes.append("\(r.name): \(note)") }
        }
        lines.append("ratio = Contour time / reference time (< 1: Contour faster), median of per-round ratios, 95 % bootstrap CI")
        if records.contains(where: { $0.rounds < BenchMethod.minimumRounds }) {
            lines.append("warning: fewer than \(BenchMethod.minimumRounds) rounds — the intervals are coarse")
        }
        if !wide.isEmpty {
            lines.append("warning: 95 % CI wider than ±\(Int(BenchMethod.wideInterval * 100)) % for \(wide.joined(separator: ", ")) — "
                + "the machine is noisy or the rounds too few (raise --rounds)")
        }
        lines += notes
        return lines.joined(separator: "\n")
    }

    /// Prints the rows as JSON or as the table.
    static func emit(_ records: [BenchRecord], json: Bool) throws {
        print(json ? try Self.json(records) : Self.table(records))
    }
}
