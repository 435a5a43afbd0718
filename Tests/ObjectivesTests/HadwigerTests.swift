import Foundation
import XCTest
import Torch
@testable import Objectives

/// Hadwiger maps and losses against the NumPy reference of scripts/fixtures/make_hadwiger_fixtures.py,
/// analytic Euler characteristics, and finite differences for the gradients.
final class HadwigerTests: XCTestCase {
    private func load(_ name: String) throws -> Tensor {
        guard let url = Bundle.module.url(forResource: name, withExtension: "npy", subdirectory: "Fixtures/hadwiger") else {
            throw ObjectiveError("missing fixture hadwiger/\(name).npy (scripts/fixtures/make_hadwiger_fixtures.py)")
        }
        return try Tensor.loadNPY(url.path)
    }

    private func deltas(_ name: String) throws -> [Int] { try load("\(name)_deltas").doubles().map { Int($0) } }

    private func options(_ deltas: [Int]) -> [String: OptionValue] {
        ["deltas": .array(deltas.map { .number(Double($0)) })]
    }

    /// Foreground probabilities as the losses see them.
    private func probabilities(_ logits: Tensor) throws -> Tensor {
        logits.shape[1] == 1 ? try logits.sigmoid() : try logits.softmax(dim: 1).droppingFirstChannel()
    }

    func testMapsMatchReference() throws {
        let maps = try HadwigerMaps()
        for name in ["binary", "defaults", "multiclass", "volume"] {
            let p = try probabilities(load("\(name)_logits"))
            for d in try deltas(name) {
                try assertClose(maps.area(p, delta: d), load("\(name)_area_\(d)"), atol: 1e-12, "\(name) area δ=\(d)")
                try assertClose(maps.perimeter(p, delta: d), load("\(name)_perimeter_\(d)"), atol: 1e-10, "\(name) perimeter δ=\(d)")
                try assertClose(maps.euler(p, delta: d), load("\(name)_euler_\(d)"), atol: 1e-12, "\(name) euler δ=\(d)")
            }
        }
    }

    func testLossesMatchReference() throws {
        for name in ["binary", "defaults", "empty", "full", "multiclass", "volume"] {
            let logits = try load("\(name)_logits")
            let target = try LossTarget(labels: load("\(name)_labels").to(.int64))
            let expected = try load("\(name)_loss").doubles()
            for (i, term) in ["area", "perimeter", "euler"].enumerated() {
                let loss = try ObjectiveRegistry.make("hadwiger-\(term)", options: options(deltas(name)))
                assertClose(try loss(logits: logits, target: target).item(), expected[i], tol: 1e-10 + 1e-8 * expected[i],
                            "\(name) \(term)")
            }
        }
    }

    func testDefaultScalesAre8_12_16() throws {
        let logits = try load("defaults_logits")
        let target = try LossTarget(labels: load("defaults_labels").to(.int64))
        let loss = try ObjectiveRegistry.make("hadwiger-perimeter")
        assertClose(try loss(logits: logits, target: target).item(), try load("defaults_loss").doubles()[1], tol: 1e-9)
    }

    func testGradientsMatchFiniteDifferences() throws {
        let cases: [([Int], [Int64])] = [
            ([1, 1, 5, 6], [0, 0, 1, 1, 0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 1, 1]),
            ([1, 3, 4, 4], [0, 1, 1, 2, 2, 0, 1, 1, 2, 0, 0, 0, 0, 2, 2, 1]),
            ([1, 1, 3, 3, 4], (0..<36).map { Int64(($0 * 7 + $0 / 5) % 3 == 0 ? 1 : 0) }),
        ]
        let g = try Generator(seed: 7)
        for (shape, labelValues) in cases {
            let target = try labels(labelValues, [shape[0], 1] + Array(shape.dropFirst(2)))
            let logits = try Tensor.randn(shape, dtype: .float64, generator: g) * 2.0
            let base = try logits.doubles()
            // A spread of coordinates, border and interior, keeps the test fast.
            let picked = Array(stride(from: 0, to: base.count, by: Swift.max(1, base.count / 9)))
            for term in HadwigerLoss.Term.allCases {
                let loss = try HadwigerLoss(term, deltas: [2, 3])
                let (_, grad) = try lossAndGradient(loss, logits: logits, target: target)
                let auto = try grad.doubles()
                for i in picked {
                    var p = base, m = base
                    p[i] += 1e-6
                    m[i] -= 1e-6
                    let numeric = (try loss(logits: Tensor(p, shape: shape), target: target).item()
                        - loss(logits: Tensor(m, shape: shape), target: target).item()) / 2e-6
                    assertClose(auto[i], numeric, tol: 1e-8 + 1e-5 * Swift.abs(numeric), "\(term) \(shape) [\(i)]")
                }
            }
        }
    }

    /// χ summed over the unpooled windows of a binary image is the 4-connectivity Euler number
    /// when the object stays off the border (6-connectivity in 3D); a border pixel is under-counted.
    func testEulerCountsAnalyticShapes() throws {
        let maps = try HadwigerMaps()
        func chi(_ pixels: [[Int]], _ shape: [Int]) throws -> Double {
            var v = [Double](repeating: 0, count: shape.reduce(1, *))
            for p in pixels {
                var i = 0
                for (a, n) in zip(p, shape) { i = i * n + a }
                v[i] = 1
            }
            return try maps.euler(Tensor(v, shape: [1, 1] + shape), delta: 1).sum().item()
        }
        let square = (1...3).flatMap { r in (1...3).map { [r, $0] } }
        assertClose(try chi([[3, 3]], [7, 7]), 1, tol: 1e-4, "one pixel")
        assertClose(try chi(square, [6, 6]), 1, tol: 1e-4, "square")
        assertClose(try chi(square.filter { $0 != [2, 2] }, [6, 6]), 0, tol: 1e-4, "ring")
        assertClose(try chi([[2, 2], [3, 3]], [6, 6]), 2, tol: 1e-4, "diagonal pair (4-connectivity)")
        assertClose(try chi([[0, 0]], [4, 4]), 0.25, tol: 1e-4, "corner pixel, interior windows only")
        assertClose(try chi([[2, 2, 2]], [5, 5, 5]), 1, tol: 1e-4, "one voxel")
        let cube = (1...3).flatMap { z in (1...3).flatMap { y in (1...3).map { [z, y, $0] } } }
        assertClose(try chi(cube, [5, 5, 5]), 1, tol: 1e-4, "solid cube")
        assertClose(try chi(cube.filter { $0 != [2, 2, 2] }, [5, 5, 5]), 2, tol: 1e-4, "hollow cube (sphere)")
    }

    func testMapShapesFollowTheOfficialPadding() throws {
        let maps = try HadwigerMaps()
        let p = try Tensor.full([2, 1, 9, 11], 0.5, dtype: .float64)
        XCTAssertEqual(try maps.area(p, delta: 3).shape, [2, 1, 9, 11])
        XCTAssertEqual(try maps.area(p, delta: 4).shape, [2, 1, 10, 12])
        XCTAssertEqual(try maps.perimeter(p, delta: 4).shape, [2, 1, 10, 12])
        XCTAssertEqual(try maps.euler(p, delta: 3).shape, [2, 1, 9, 11])
        XCTAssertEqual(try maps.euler(p, delta: 4).shape, [2, 1, 9, 11])
        XCTAssertEqual(try maps.euler(p, delta: 16).shape, [2, 1, 9, 11])
    }

    func testOptionsAndErrors() throws {
        XCTAssertNoThrow(try ObjectiveRegistry.make("hadwiger-perimeter", options: ["tau": .number(0.25), "sigma": .number(0), "eps": .number(1e-5)]))
        XCTAssertThrowsError(try ObjectiveRegistry.make("hadwiger-area", options: ["tau": .number(0.5)])) {
            XCTAssertTrue("\($0)".contains("tau"), "\($0)")
        }
        XCTAssertThrowsError(try ObjectiveRegistry.make("hadwiger-euler", options: ["deltas": .array([.number(0)])])) {
            XCTAssertTrue("\($0)".contains("deltas"), "\($0)")
        }
        XCTAssertThrowsError(try ObjectiveRegistry.make("hadwiger-area", options: ["deltas": .array([])])) {
            XCTAssertTrue("\($0)".contains("deltas"), "\($0)")
        }
        XCTAssertThrowsError(try ObjectiveRegistry.make("hadwiger-perimeter", options: ["tau": .number(0)])) {
            XCTAssertTrue("\($0)".contains("tau"), "\($0)")
        }
        let loss = try ObjectiveRegistry.make("hadwiger-euler")
        XCTAssertThrowsError(try loss(logits: Tensor.zeros([1, 1, 8]), target: labels([0, 0, 0, 0, 0, 0, 0, 0], [1, 1, 8])))
    }

    func testComposesWithSCNP() throws {
        let logits = try load("multiclass_logits")
        let target = try LossTarget(labels: load("multiclass_labels").to(.int64))
        let loss = try ObjectiveRegistry.make("scnp+hadwiger-area", options: options([3]))
        XCTAssertEqual(loss.name, "scnp+hadwiger-area")
        XCTAssertTrue(try loss(logits: logits, target: target).item().isFinite)
    }
}
