import XCTest
import Torch
@testable import Objectives

final class SCNPTests: XCTestCase {
    // METHODS §1.5: 3×3, C = 2, k = 3; z0 = 0, y0 = 1 − y1.
    let y1: [Double] = [1, 1, 0, 1, 1, 0, 0, 0, 0]
    let z1: [Double] = [2.0, 0.5, -1.0, 3.0, 1.5, 0.2, -2.0, 0.8, -3.0]

    func example() throws -> (logits: Tensor, oneHot: Tensor, target: LossTarget) {
        let z = try tensor(Array(repeating: 0, count: 9) + z1, [1, 2, 3, 3])
        let y = try tensor(y1.map { 1 - $0 } + y1, [1, 2, 3, 3])
        return (z, y, try labels(y1.map { Int64($0) }, [1, 1, 3, 3]))
    }

    func testWorkedExampleTransform() throws {
        let (z, y, _) = try example()
        let t = try SCNP.transform(z, oneHot: y, k: 3)
        assertClose(try t.select(dim: 1, index: 1).doubles(), [0.5, 0.5, 0.2, 0.5, 0.5, 0.8, 0.8, 0.8, 0.8], atol: 1e-12, rtol: 0)
        assertClose(try t.select(dim: 1, index: 0).doubles(), Array(repeating: 0, count: 9), atol: 1e-12, rtol: 0)
        let p1 = try t.softmax(dim: 1).select(dim: 1, index: 1).doubles()
        assertClose(p1, [0.6225, 0.6225, 0.5498, 0.6225, 0.6225, 0.6900, 0.6900, 0.6900, 0.6900], atol: 1e-4, rtol: 0)
    }

    /// The one-sided ablations: only the true class's min pooling, or only the wrong classes' max pooling.
    func testOneSidedTransforms() throws {
        let (z, y, target) = try example()
        let minOnly = try SCNP.transform(z, oneHot: y, k: 3, side: .min).select(dim: 1, index: 1).doubles()
        assertClose(minOnly, [0.5, 0.5, -1.0, 0.5, 0.5, 0.2, -2.0, 0.8, -3.0], atol: 1e-12, rtol: 0)
        let maxOnly = try SCNP.transform(z, oneHot: y, k: 3, side: .max).select(dim: 1, index: 1).doubles()
        assertClose(maxOnly, [2.0, 0.5, 0.2, 3.0, 1.5, 0.8, 0.8, 0.8, 0.8], atol: 1e-12, rtol: 0)
        XCTAssertNotEqual(try lossValue("scnp", #"{"side": "min"}"#, z, target), try lossValue("scnp", #"{"side": "max"}"#, z, target))
        XCTAssertThrowsError(try lossValue("scnp", #"{"side": "left"}"#, z, target)) { XCTAssertTrue("\($0)".contains("side"), "\($0)") }
    }

    func testWorkedExampleLosses() throws {
        let (z, _, target) = try example()
        // Raw logits: CE 0.367669 + Dice −0.733106; SCNP logits: CE 0.819872 + Dice −0.460196.
        assertClose(try lossValue("tmcedice", "{}", z, target), -0.365437, tol: 1e-6, "raw")
        assertClose(try lossValue("scnp", "{}", z, target), 0.359676, tol: 1e-6, "scnp")
        assertClose(try lossValue("scnp+tmcedice", "{}", z, target), 0.359676, tol: 1e-6, "scnp+tmcedice")
        assertClose(try lossValue("scnp", #"{"joint": true}"#, z, target), 0.359676 - 0.365437, tol: 2e-6, "joint")
    }

    /// Each copied logit receives the gradient of every position it was copied to (§1.5 routing).
    func testGradientRouting() throws {
        let (z, y, target) = try example()
        let w = (0..<9).map { Double($0 + 1) * 0.1 }  // a linear probe on the fg channel
        let probe = try tensor(Array(repeating: 0, count: 9) + w, [1, 2, 3, 3])
        let x = try z.clone().requiringGrad()
        let g = try gradients(of: (SCNP.transform(x, oneHot: y) * probe).sum(), with: [x])[0]!
        let fg = try g.select(dim: 1, index: 1).doubles()
        var expected = [Double](repeating: 0, count: 9)
        expected[1] = w[0] + w[1] + w[3] + w[4]      // 0.5 feeds the four fg pixels
        expected[7] = w[5] + w[6] + w[7] + w[8]      // 0.8 feeds (1,2), (2,0), (2,1), (2,2)
        expected[5] = w[2]                           // 0.2 feeds (0,2)
        assertClose(fg, expected, atol: 1e-12, rtol: 0, "fg gradient")

        // The same routing pattern through the official loss: only the three selected logits move.
        let xl = try z.clone().requiringGrad()
        let scnp = try ObjectiveRegistry.make("scnp")
        let gl = try gradients(of: scnp(logits: xl, target: target), with: [xl])[0]!.select(dim: 1, index: 1).doubles()
        for i in 0..<9 { XCTAssertEqual(gl[i] != 0, [1, 5, 7].contains(i), "fg logit \(i) gradient \(gl[i])") }
    }

    /// Against a brute-force window search (multi-class, 2D and 3D, k 3 and 5, borders clipped).
    func testMatchesBruteForce() throws {
        for (shape, k) in [([2, 3, 7, 6], 3), ([1, 3, 6, 7], 5), ([1, 2, 4, 5, 3], 3)] {
            let g = try Generator(seed: 11)
            let z = try Tensor.randn(shape, dtype: .float64, generator: g)
            let l = try Tensor.randint(0, shape[1], [shape[0]] + Array(shape.dropFirst(2)), generator: g)
            let target = try LossTarget(labels: l)
            let y = try target.denseTarget(for: z)
            let got = try SCNP.transform(z, oneHot: y, k: k).doubles()
            let zv = try z.doubles(), yv = try y.doubles()
            let spatial = Array(shape.dropFirst(2)).count == 2 ? [1] + Array(shape.dropFirst(2)) : Array(shape.dropFirst(2))
            let (d, h, w) = (spatial[0], spatial[1], spatial[2])
            let r = k / 2, is3D = shape.count == 5
            var expected = [Double](repeating: 0, count: zv.count)
            for bc in 0..<(shape[0] * shape[1]) {
                let base = bc * d * h * w
                for zz in 0..<d { for yy in 0..<h { for xx in 0..<w {
                    let i = base + (zz * h + yy) * w + xx
                    let same = yv[i] == 1
                    var best = same ? Double.infinity : -Double.infinity
                    for dz in (is3D ? -r...r : 0...0) { for dy in -r...r { for dx in -r...r {
                        let a = zz + dz, b = yy + dy, c = xx + dx
                        guard a >= 0, a < d, b >= 0, b < h, c >= 0, c < w else { continue }
                        let j = base + (a * h + b) * w + c
                        guard (yv[j] == 1) == same else { continue }
                        best = same ? Swift.min(best, zv[j]) : Swift.max(best, zv[j])
                    } } }
                    expected[i] = best
                } } }
            }
            assertClose(got, expected, atol: 1e-12, rtol: 0, "shape \(shape) k \(k)")
            // SCNP only ever makes a pixel look worse.
            for i in 0..<zv.count { XCTAssertTrue(yv[i] == 1 ? got[i] <= zv[i] : got[i] >= zv[i]) }
        }
    }

    func testAutogradMatchesFiniteDifferences() throws {
        let g = try Generator(seed: 3)
        let z = try Tensor.randn([1, 3, 5, 5], dtype: .float64, generator: g)
        let target = try LossTarget(labels: Tensor.randint(0, 3, [1, 1, 5, 5], generator: g))
        for name in ["scnp", "scnp+cedice"] {
            let objective = try ObjectiveRegistry.make(name)
            let (_, grad) = try lossAndGradient(objective, logits: z, target: target)
            let numeric = try numericGradient(z) { try objective(logits: $0, target: target).item() }
            assertClose(try grad.doubles(), numeric, atol: 1e-7, rtol: 1e-5, name)
        }
    }

    func testBadNeighbourhoodsAreErrorsNamingK() throws {
        for json in [#"{"k": 4}"#, #"{"k": 1}"#, #"{"k": 2.5}"#, #"{"k": "3"}"#] {
            XCTAssertThrowsError(try ObjectiveRegistry.make("scnp+dice", json: json)) { e in
                XCTAssertTrue("\(e)".contains("'k'"), "\(e)")
            }
        }
        let (z, y, _) = try example()
        XCTAssertThrowsError(try SCNP.transform(z, oneHot: y, k: 6)) { XCTAssertTrue("\($0)".contains("'k'")) }
        XCTAssertThrowsError(try ObjectiveRegistry.make("scnp+scnp"))
    }
}
