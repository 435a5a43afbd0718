import Foundation
import XCTest
import Geometry
import Imaging
import Metrics
@testable import Training

/// compare.{md,json,csv,html} from a synthetic comparison, the plan's variants from --vary and a
/// compare section, and (when Chromium is installed, as for report.html) the page in a real browser.
final class ComparisonReportTests: XCTestCase {
    var dir: String!

    override func setUpWithError() throws {
        dir = NSTemporaryDirectory() + "contour-comparison-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: dir) }

    /// Three variants × 2 seeds × 2 folds × 5 cases; "better" is 0.05 Dice above "base" on every case.
    func synthetic() throws -> (Comparison, [ComparisonObservation], [ComparisonReport.Curve]) {
        var generator = SeededGenerator(seed: 1)
        var obs: [ComparisonObservation] = []
        for seed in 0..<2 { for fold in 0..<2 { for c in 0..<5 {
            let id = "case\(fold)\(c)", truth = 0.7 + 0.02 * Double(c)
            for (v, shift) in [("base", 0.0), ("better", 0.05), ("same", 0.0)] {
                let noise = v == "better" ? 0.01 * generator.gaussian() : v == "same" ? 0.02 * generator.gaussian() : 0
                obs.append(ComparisonObservation(variant: v, seed: seed, fold: fold, caseID: id, metric: "dice", value: truth + shift + noise))
                obs.append(ComparisonObservation(variant: v, seed: seed, fold: fold, caseID: id, metric: "hd95",
                                                 value: c == 0 && v == "same" ? .infinity : 5 - 20 * (shift + noise)))
            }
        } } }
        let curves = ["base", "better", "same"].flatMap { v in (0..<4).map { run in
            ComparisonReport.Curve(variant: v, records: (1...5).map { e in
                EpochRecord(epoch: e, trainLoss: 1 / Double(e) + 0.01 * Double(run), objectives: [:], learningRate: 0.01, seconds: 1,
                            skippedSteps: 0, validation: ["dice": 0.5 + 0.05 * Double(e) + (v == "better" ? 0.05 : 0)])
            })
        } }
        let c = try Comparison.analyse(obs, variants: ["base", "better", "same"], reference: "base", metrics: ["dice", "hd95"], resamples: 1000)
        return (c, obs, curves)
    }

    func testStatisticsAndTables() throws {
        let (c, obs, _) = try synthetic()
        let dice = c.metrics[0]
        XCTAssertEqual(dice.variants.map(\.n), [20, 20, 20])
        let better = dice.tests.first { $0.variant == "better" }!
        XCTAssertEqual(better.pairs, 20)
        XCTAssertEqual(better.verdict, "better")
        XCTAssertEqual(better.rankBiserial, 1, accuracy: 1e-12)
        XCTAssertLessThan(better.pHolm!, 0.001)
        XCTAssertGreaterThanOrEqual(better.pHolm!, better.p!)
        XCTAssertEqual(dice.rankFrequencies[1][0], 1, accuracy: 1e-12, "better ranks first on every resample")
        // hd95: the infinite values are left out and counted; lower is better.
        let hd = c.metrics[1]
        XCTAssertEqual(hd.variants[2].nonFinite, 4)
        XCTAssertEqual(hd.tests.first { $0.variant == "better" }!.verdict, "better")
        XCTAssertEqual(hd.tests.first { $0.variant == "same" }!.pairs, 16)
        // Holm over 4 tests: the adjusted p of the smallest raw p is 4 × p.
        let all = c.metrics.flatMap(\.tests)
        let smallest = all.min { $0.p! < $1.p! }!
        XCTAssertEqual(smallest.pHolm!, min(1, 4 * smallest.p!), accuracy: 1e-15)

        let md = ComparisonReport.markdown(c, failures: [ComparisonReport.Failure(variant: "broken", run: "seed 0 fold 0", error: "out of memory")],
                                           seeds: [0, 1], folds: [0, 1])
        XCTAssertTrue(md.contains("| base (ref) |"), md)
        XCTAssertTrue(md.contains("\\*\\*\\*↑"), md)
        XCTAssertTrue(md.contains("- broken (seed 0 fold 0): out of memory"), md)
        let csv = ComparisonReport.csv(obs)
        XCTAssertTrue(csv.hasPrefix("variant,seed,fold,case,metric,value\n"))
        XCTAssertTrue(csv.contains("same,0,0,case00,hd95,inf\n"), csv)
        let json = try ComparisonReport.json(c, failures: [], seeds: [0, 1], folds: [0, 1], command: "contour compare …")
        let doc = try JSONSerialization.jsonObject(with: Data(json.utf8)) as! [String: Any]
        XCTAssertEqual((doc["comparison"] as! [String: Any])["reference"] as? String, "base")
    }

    func testNotApplicableBelowSixPairs() throws {
        let obs = (0..<5).flatMap { c in ["a", "b"].map { v in
            ComparisonObservation(variant: v, seed: 0, fold: 0, caseID: "c\(c)", metric: "dice", value: v == "a" ? 0.5 : 0.9) } }
        let c = try Comparison.analyse(obs, variants: ["a", "b"], reference: "a", metrics: ["dice"], resamples: 200)
        XCTAssertEqual(c.metrics[0].tests[0].method, .notApplicable)
        XCTAssertNil(c.metrics[0].tests[0].pHolm)
        XCTAssertEqual(c.metrics[0].tests[0].verdict, "not applicable")
        XCTAssertTrue(ComparisonReport.markdown(c, failures: [], seeds: [0], folds: [0]).contains("n/a (5 pairs)"))
    }

    func testPlanFromVaryAndCompareSection() throws {
        try FileManager.default.createDirectory(atPath: "\(dir!)/data", withIntermediateDirectories: true)
        let yaml = """
        data: {dataset: \(dir!)/data, folds: 3}
        objectives: cedice
        compare:
          seeds: [2, 1]
          folds: [0, 2]
          reference: plain
          variants:
            - {name: plain}
            - {name: k5, set: ["objectives=scnp+cedice", "objectives[0].options.k=5"]}
        """
        try yaml.write(toFile: "\(dir!)/c.yaml", atomically: true, encoding: .utf8)
        let plan = try ComparisonPlan.make(config: "\(dir!)/c.yaml", vary: ["model.name=unet2d|unet++"], set: ["run.epochs=3"], seeds: nil,
                                           folds: nil, reference: "k5_unet2d", metrics: nil, output: "\(dir!)/out")
        XCTAssertEqual(plan.variants.map(\.name), ["plain_unet2d", "plain_unet++", "k5_unet2d", "k5_unet++"])
        XCTAssertEqual(plan.seeds, [1, 2])
        XCTAssertEqual(plan.folds, [0, 2])
        XCTAssertEqual(plan.runs.count, 16)
        XCTAssertEqual(plan.runs[0].folder, "\(dir!)/out/runs/plain_unet2d/seed1-fold0")
        let k5 = plan.variants[3].config
        XCTAssertEqual(k5.model.name, "unet++")
        XCTAssertEqual(k5.objectives.map(\.name), ["scnp+cedice"])
        XCTAssertEqual(k5.objectives[0].options["k"], .number(5))
        XCTAssertEqual(k5.run.epochs, 3)
        // "plain" is not a variant name once --vary multiplies them.
        XCTAssertThrowsError(try ComparisonPlan.make(config: "\(dir!)/c.yaml", vary: ["model.name=unet2d|unet++"], set: [], seeds: nil,
                                                     folds: nil, reference: "plain", metrics: nil, output: "\(dir!)/out")) {
            XCTAssertTrue("\($0)".contains("--reference plain"), "\($0)")
        }
        XCTAssertThrowsError(try ComparisonPlan.make(config: "\(dir!)/c.yaml", vary: ["run.epochz=1|2"], set: [], seeds: nil,
                                                     folds: nil, reference: nil, metrics: nil, output: "\(dir!)/out")) {
            XCTAssertTrue("\($0)".contains("--vary run.epochz=1|2") && "\($0)".contains("epochz"), "\($0)")
        }
        XCTAssertThrowsError(try ComparisonPlan.make(config: "\(dir!)/c.yaml", vary: [], set: [], seeds: nil, folds: [3],
                                                     reference: nil, metrics: nil, output: "\(dir!)/out")) {
            XCTAssertTrue("\($0)".contains("fold 3 does not exist"), "\($0)")
        }
    }

    func testRunDataAveragesLabelsAndLandmarksPerCase() throws {
        let run = "\(dir!)/run"
        try FileManager.default.createDirectory(atPath: "\(run)/evaluation-val", withIntermediateDirectories: true)
        XCTAssertFalse(ComparisonRunData.isEvaluated(run))
        try """
        case,label,label_name,dice,hd95
        a,1,liver,0.8,2
        a,2,spleen,0.6,inf
        "b,1",1,liver,0.5,
        "b,1",2,spleen,,3

        """.write(toFile: ComparisonRunData.metricsFile(run), atomically: true, encoding: .utf8)
        try "case,landmark,error_mm,pred_0,pred_1,true_0,true_1\na,p,1.0,0,0,0,1\na,q,3.0,0,0,0,3\n"
            .write(toFile: ComparisonRunData.landmarksFile(run), atomically: true, encoding: .utf8)
        XCTAssertTrue(ComparisonRunData.isEvaluated(run))
        let obs = try ComparisonRunData.observations(run: run, variant: "v", seed: 1, fold: 2, metrics: ["dice", "hd95", "mre"])
        func value(_ c: String, _ m: String) -> Double? { obs.first { $0.caseID == c && $0.metric == m }?.value }
        XCTAssertEqual(value("a", "dice")!, 0.7, accuracy: 1e-12)
        XCTAssertEqual(value("a", "hd95"), .infinity)
        XCTAssertEqual(value("b,1", "dice")!, 0.5, accuracy: 1e-12)
        XCTAssertEqual(value("b,1", "hd95")!, 3, accuracy: 1e-12)
        XCTAssertEqual(value("a", "mre")!, 2, accuracy: 1e-12)
        XCTAssertNil(value("b,1", "mre"))
        XCTAssertTrue(obs.allSatisfy { $0.variant == "v" && $0.seed == 1 && $0.fold == 2 })
    }

    func testPageHasEveryPlotAndRendersInHeadlessChromium() throws {
        let (c, obs, curves) = try synthetic()
        let html = ComparisonReport.html(c, observations: obs, failures: [ComparisonReport.Failure(variant: "x", run: "seed 0 fold 0", error: "boom <b>")],
                                         curves: curves, command: "contour compare --config base.yaml --vary 'objectives=a|b'",
                                         configs: [("base", "run: {epochs: 1}\n")], seeds: [0, 1], folds: [0, 1])
        XCTAssertEqual(html.components(separatedBy: "class=\"box\"").count - 1, 2)
        XCTAssertEqual(html.components(separatedBy: "class=\"diff\"").count - 1, 2)
        XCTAssertEqual(html.components(separatedBy: "class=\"rank\"").count - 1, 2)
        XCTAssertGreaterThanOrEqual(html.components(separatedBy: "class=\"curve\"").count - 1, 2)
        XCTAssertTrue(html.contains("boom &lt;b&gt;"))
        XCTAssertTrue(html.contains("<pre>contour compare --config base.yaml --vary 'objectives=a|b'</pre>"))
        XCTAssertFalse(html.contains("<script") || html.contains("src=\"http") || html.contains("href=\"http"), "self-contained")

        guard let chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw XCTSkip("chromium is not installed (make check-report installs it)")
        }
        try html.write(toFile: "\(dir!)/compare.html", atomically: true, encoding: .utf8)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: chromium)
        p.arguments = ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--window-size=1400,3000",
                       "--screenshot=\(dir!)/shot.png", "file://\(dir!)/compare.html"]
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0)
        let shot = try PNGFile.readImage(path: "\(dir!)/shot.png")
        let red = shot.channels[0].storage, green = shot.channels[1].storage, blue = shot.channels[2].storage
        XCTAssertGreaterThan(Set(red.map { Int($0) }).count, 20, "the screenshot looks blank")
        XCTAssertGreaterThan(red.filter { $0 < 100 }.count, 2000, "no text or axes drawn")
        var coloured = 0
        for i in 0..<red.count where Swift.abs(red[i] - green[i]) > 60 || Swift.abs(green[i] - blue[i]) > 60 { coloured += 1 }
        XCTAssertGreaterThan(coloured, 2000, "no coloured plots drawn")
    }
}
