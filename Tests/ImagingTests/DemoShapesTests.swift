import Foundation
import XCTest
import Geometry
@testable import Imaging

/// The shapes demo's geometry: every object one component, ellipses convex, C-shapes and rims
/// not (solidity from the convex hull of the pixel squares in 2D, midpoints of voxel pairs in 3D),
/// rims with one hole, open shells without a cavity, and a spread of sizes and kinds.
final class DemoShapesTests: XCTestCase {
    private func mask(_ voxels: [Int], shape: [Int]) -> Grid<Bool> {
        var g = Grid<Bool>(shape: shape, repeating: false)
        for v in voxels { g.storage[v] = true }
        return g
    }

    /// Pixel count / area of the convex hull of the pixels' corners (monotone chain).
    private func solidity(_ voxels: [Int], width: Int) -> Double {
        var points = Set<[Int]>()
        for v in voxels {
            let y = v / width, x = v % width
            for (dy, dx) in [(0, 0), (0, 1), (1, 0), (1, 1)] { points.insert([y + dy, x + dx]) }
        }
        let p = points.sorted { $0[0] != $1[0] ? $0[0] < $1[0] : $0[1] < $1[1] }
        func cross(_ o: [Int], _ a: [Int], _ b: [Int]) -> Int { (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0]) }
        var lower: [[Int]] = [], upper: [[Int]] = []
        for q in p {
            while lower.count >= 2 && cross(lower[lower.count - 2], lower[lower.count - 1], q) <= 0 { lower.removeLast() }
            lower.append(q)
        }
        for q in p.reversed() {
            while upper.count >= 2 && cross(upper[upper.count - 2], upper[upper.count - 1], q) <= 0 { upper.removeLast() }
            upper.append(q)
        }
        let hull = Array(lower.dropLast() + upper.dropLast())
        var twice = 0
        for i in hull.indices {
            let a = hull[i], b = hull[(i + 1) % hull.count]
            twice += a[0] * b[1] - a[1] * b[0]
        }
        return Double(voxels.count) / (Double(Swift.abs(twice)) / 2)
    }

    /// Fraction of random voxel pairs whose (rounded) midpoint is not in the object.
    private func concavity(_ voxels: [Int], shape: [Int], seed: UInt64) -> Double {
        let set = Set(voxels), strides = [shape[1] * shape[2], shape[2], 1]
        var rng = SeededGenerator(seed: seed)
        var outside = 0
        for _ in 0..<2000 {
            let a = voxels.randomElement(using: &rng)!, b = voxels.randomElement(using: &rng)!
            let m = (0..<3).map { (Double((a / strides[$0]) % shape[$0]) + Double((b / strides[$0]) % shape[$0])) / 2 }
            let flat = (0..<3).reduce(0) { $0 + Int(m[$1].rounded()) * strides[$1] }
            if !set.contains(flat) { outside += 1 }
        }
        return Double(outside) / 2000
    }

    func testShapes2D() throws {
        var kinds: [DemoShapes.Kind: Int] = [:]
        var sizes: [Int] = []
        for i in 0..<40 {
            var rng = SeededGenerator(seed: DataLoader.mix(3, 5, UInt64(i)))
            let (c, placed) = DemoShapes.make(size: 128, rank: 2, using: &rng)
            XCTAssertFalse(placed.isEmpty, "case \(i)")
            XCTAssertEqual(c.labels.storage.filter { $0 == 1 }.count, placed.reduce(0) { $0 + $1.voxels.count }, "case \(i)")
            XCTAssertEqual(try BettiNumbers(c.labels.map { $0 != 0 }).b0, placed.count, "case \(i): objects stay apart")
            XCTAssertEqual(c.image.shape, [128, 128])
            for o in placed {
                kinds[o.kind, default: 0] += 1
                sizes.append(o.voxels.count)
                let betti = try BettiNumbers(mask(o.voxels, shape: [128, 128]))
                let s = solidity(o.voxels, width: 128)
                XCTAssertEqual(betti.b0, 1, "case \(i) \(o.kind)")
                switch o.kind {
                case .ellipse:
                    XCTAssertEqual(betti.b1, 0)
                    XCTAssertGreaterThan(s, 0.85, "case \(i) ellipse solidity")
                case .star:
                    XCTAssertEqual(betti.b1, 0)
                    XCTAssertLessThan(s, 0.97, "case \(i) star solidity")
                case .cshape:
                    XCTAssertEqual(betti.b1, 0)
                    XCTAssertLessThan(s, 0.8, "case \(i) C-shape solidity")
                case .rim:
                    XCTAssertEqual(betti.b1, 1, "case \(i): a rim has one hole")
                    XCTAssertLessThan(s, 0.6, "case \(i) rim solidity")
                }
            }
        }
        XCTAssertEqual(Set(kinds.keys), Set(DemoShapes.Kind.allCases), "\(kinds)")
        XCTAssertGreaterThan(Double(sizes.max()!) / Double(sizes.min()!), 8, "varied sizes: \(sizes.min()!)…\(sizes.max()!)")
    }

    func testShapes3D() throws {
        var kinds: Set<DemoShapes.Kind> = []
        for i in 0..<14 {
            var rng = SeededGenerator(seed: DataLoader.mix(4, 6, UInt64(i)))
            let (c, placed) = DemoShapes.make(size: 48, rank: 3, using: &rng)
            XCTAssertFalse(placed.isEmpty)
            XCTAssertEqual(c.image.shape, [48, 48, 48])
            XCTAssertEqual(try BettiNumbers(c.labels.map { $0 != 0 }).b0, placed.count, "case \(i)")
            for o in placed {
                kinds.insert(o.kind)
                let betti = try BettiNumbers(mask(o.voxels, shape: [48, 48, 48]))
                XCTAssertEqual(betti.b0, 1, "case \(i) \(o.kind)")
                XCTAssertEqual(betti.b2, 0, "case \(i) \(o.kind): no cavity (shells are open)")
                let concave = concavity(o.voxels, shape: [48, 48, 48], seed: UInt64(i))
                switch o.kind {
                case .ellipse: XCTAssertLessThan(concave, 0.03, "case \(i) ellipsoid")
                case .star: XCTAssertGreaterThan(concave, 0.005, "case \(i) star")
                case .cshape, .rim: XCTAssertGreaterThan(concave, 0.15, "case \(i) \(o.kind)")
                }
            }
        }
        XCTAssertEqual(kinds, Set(DemoShapes.Kind.allCases))
    }

    func testShapesDatasetIsBinaryWithDefaultCounts() throws {
        XCTAssertTrue(DemoKind.shapes.defaultCounts == (60, 20))
        XCTAssertTrue(DemoKind.shapes3d.isVolumetric)
        let dir = NSTemporaryDirectory() + "contour-shapes-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let d = try DemoData.write(kind: .shapes, to: dir, trainCount: 3, testCount: 1, seed: 9)
        XCTAssertEqual(d.labels, ["background": 0, "target": 1])
        let dataset = try Dataset.open(dir)
        for c in dataset.training {
            let labels = try XCTUnwrap(Dataset.loadLabels(c))
            XCTAssertTrue(labels.storage.contains(1), c.id)
            XCTAssertTrue(Set(labels.storage).isSubset(of: [0, 1]), c.id)
        }
    }
}
