import XCTest
import Torch
@testable import Objectives

final class RegionWiseTests: XCTestCase {
    // METHODS §2.3: 5×5, a 3×3 foreground square in the centre.
    func squareTarget() throws -> LossTarget {
        var l = [Int64](repeating: 0, count: 25)
        for y in 1...3 { for x in 1...3 { l[y * 5 + x] = 1 } }
        return try labels(l, [1, 1, 5, 5])
    }

    func testWorkedExampleMaps() throws {
        let target = try squareTarget()
        let logits = try Tensor.zeros([1, 2, 5, 5], dtype: .float64)
        let z = try RegionMap.rrw(.clean).tensor(for: target, logits: logits)
        let a = -1 / 2.0.squareRoot()
        let bg: [Double] = [-1, a, a, a, -1, a, 1, 1, 1, a, a, 1, 1, 1, a, a, 1, 1, 1, a, -1, a, a, a, -1]
        let fg: [Double] = [1, 1, 1, 1, 1, 1, -0.5, -0.5, -0.5, 1, 1, -0.5, -1, -0.5, 1, 1, -0.5, -0.5, -0.5, 1, 1, 1, 1, 1, 1]
        assertClose(try z.doubles(), bg + fg, atol: 1e-12, rtol: 0)
    }

    func testWorkedExampleLosses() throws {
        let target = try squareTarget()
        assertClose(try lossValue("rrw", "{}", Tensor.zeros([1, 2, 5, 5], dtype: .float64), target), 0.0751472, tol: 1e-6, "uniform")
        let y = try target.denseTarget(for: Tensor.zeros([1, 2, 5, 5], dtype: .float64))
        assertClose(try lossValue("rrw", "{}", (y * 2 - 1.0) * 100, target), -0.3497056, tol: 1e-6, "perfect")
        assertClose(try lossValue("rrw", #"{"parity": true}"#, Tensor.zeros([1, 2, 5, 5], dtype: .float64), target),
                    0.0751472, tol: 1e-6, "parity equals clean without a full class")
    }

    /// An empty-foreground image: finite, bounded loss and gradient; clean map −1 / +1.
    func testEmptyForegroundIsStable() throws {
        let target = try LossTarget(labels: Tensor.zeros([2, 1, 9, 9], dtype: .int64))
        let logits = try Tensor.randn([2, 2, 9, 9], dtype: .float64, generator: Generator(seed: 5)) * 10
        for json in ["{}", #"{"parity": true}"#] {
            let (value, grad) = try lossAndGradient(ObjectiveRegistry.make("rrw", json: json), logits: logits, target: target)
            XCTAssertTrue(value.isFinite && Swift.abs(value) <= 1, "\(json): \(value)")
            XCTAssertTrue(try grad.doubles().allSatisfy { $0.isFinite }, json)
        }
        let z = try RegionMap.rrw(.clean).tensor(for: target, logits: logits)
        XCTAssertEqual(Set(try z.select(dim: 1, index: 0).doubles()), [-1])
        XCTAssertEqual(Set(try z.select(dim: 1, index: 1).doubles()), [1])
        // Parity keeps SciPy's virtual-index artefact: no +1 in the background channel.
        let p = try RegionMap.rrw(.parity).tensor(for: target, logits: logits).select(dim: 1, index: 0).doubles()
        XCTAssertTrue(p.allSatisfy { $0 < 0 && $0 >= -1 })
        XCTAssertNotEqual(Set(p).count, 1)
    }

    /// The GT class has the strictly smallest map value at every pixel (the stability principle).
    func testRRWRewardsOnlyTheTrueClass() throws {
        let target = try LossTarget(labels: fixture("x2d_labels"))
        let logits = try fixture("x2d_logits")
        let z = try RegionMap.rrw(.clean).tensor(for: target, logits: logits)
        let zt = try z.permute([0, 2, 3, 1]).reshape([-1, 3]).doubles()
        let l = try target.labelMap(for: logits).reshape([-1]).ints()
        for (i, c) in l.enumerated() {
            for k in 0..<3 where k != c { XCTAssertLessThan(zt[i * 3 + c], zt[i * 3 + k]) }
        }
    }

    func testCacheComputesEachCaseOnce() throws {
        let cache = RegionMapCache()
        var target = try LossTarget(labels: fixture("x2d_labels"))
        target.caseIDs = ["a", "b"]
        target.cache = cache
        let logits = try fixture("x2d_logits")
        let first = try RegionMap.rrw(.clean).tensor(for: target, logits: logits)
        XCTAssertEqual(cache.count, 2)
        // Same ids: the cached maps come back even if the labels tensor is a new one.
        var again = try LossTarget(labels: fixture("x2d_labels").flip([3]))
        again.caseIDs = ["a", "b"]
        again.cache = cache
        try assertClose(RegionMap.rrw(.clean).tensor(for: again, logits: logits), first)
        _ = try RegionMap.boundary(.kervadec).tensor(for: target, logits: logits)
        XCTAssertEqual(cache.count, 4, "kinds are cached separately")
    }

    func testSpacingScalesDistances() throws {
        // Spacing through the Geometry EDT: the unshifted signed map doubles with spacing 2
        // (Kervadec's −1 shift is in index units, as in his code, so it does not).
        let target = try squareTarget()
        let logits = try Tensor.zeros([1, 2, 5, 5], dtype: .float64)
        let unit = try RegionMap.boundary(.regionWise).tensor(for: target, logits: logits)
        let double = try RegionMap.boundary(.regionWise).tensor(for: target, logits: logits, spacing: [2, 2])
        try assertClose(double, unit * 2, atol: 1e-12)
        XCTAssertThrowsError(try ObjectiveRegistry.make("rrw", json: #"{"spacing": [1, -2]}"#)) {
            XCTAssertTrue("\($0)".contains("'spacing'"))
        }
    }

    func testTargetSpacingIn3D() throws {
        let logits = try fixture("x3d_logits")
        var target = try LossTarget(labels: fixture("x3d_labels"))
        target.spacing = [2, 1, 1]
        let fromTarget = try lossValue("boundary", #"{"useTargetSpacing": true}"#, logits, target)
        assertClose(fromTarget, try fixture("boundary_3d_spacing_loss").item(), tol: 1e-10)
        XCTAssertThrowsError(try ObjectiveRegistry.make("rrw", json: #"{"useTargetSpacing": true, "spacing": [1, 1]}"#))
    }

    func testSingleChannelIsRejected() throws {
        let target = try labels([0, 1, 1, 0], [1, 1, 2, 2])
        XCTAssertThrowsError(try lossValue("rrw", "{}", Tensor.zeros([1, 1, 2, 2], dtype: .float64), target))
    }
}
