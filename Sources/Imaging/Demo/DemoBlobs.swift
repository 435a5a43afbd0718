#if canImport(Glibc)
import Glibc
#endif
import Geometry

/// Blobs for shape priors (near-convex = 1, non-convex = 2) and rounded cells.
enum DemoBlobs {
    /// r(θ) = r₀ (1 + Σ aₖ cos(kθ + φₖ)); small aₖ keep it near-convex, a large k = 2…4 term makes lobes.
    static func radial(base: Double, convex: Bool, using rng: inout SeededGenerator) -> (Double) -> Double {
        let terms: [(Int, Double, Double)] = convex
            ? [(2, Double.random(in: 0...0.15, using: &rng), Double.random(in: 0...(2 * .pi), using: &rng)),
               (3, Double.random(in: 0...0.04, using: &rng), Double.random(in: 0...(2 * .pi), using: &rng))]
            : [(Int.random(in: 2...4, using: &rng), Double.random(in: 0.3...0.45, using: &rng), Double.random(in: 0...(2 * .pi), using: &rng)),
               (5, Double.random(in: 0...0.06, using: &rng), Double.random(in: 0...(2 * .pi), using: &rng))]
        return { theta in base * (1 + terms.reduce(0) { $0 + $1.1 * cos(Double($1.0) * theta + $1.2) }) }
    }

    static func makeBlobs(size: Int, using rng: inout SeededGenerator) -> DemoCase {
        var labels = Grid<UInt8>(shape: [size, size], repeating: 0)
        var centres: [[Double]] = []
        let count = Int.random(in: 2...4, using: &rng)
        var attempts = 0
        while centres.count < count && attempts < 200 {
            attempts += 1
            let convex = centres.count % 2 == 0 ? Bool.random(using: &rng) : !(labels.storage.contains(1))
            let base = Double.random(in: 11...20, using: &rng)
            let maxR = base * 1.5
            let c = [Double.random(in: maxR...(Double(size) - maxR), using: &rng), Double.random(in: maxR...(Double(size) - maxR), using: &rng)]
            guard centres.allSatisfy({ hypot($0[0] - c[0], $0[1] - c[1]) > 2 * maxR + 3 }) else { continue }
            centres.append(c)
            DemoData.fillRadial(&labels, center: c, maxRadius: maxR, value: convex ? 1 : 2,
                                radius: radial(base: base, convex: convex, using: &rng))
        }
        let image = DemoData.render(labels, classMeans: DemoData.classMeans(labels: 2, using: &rng), using: &rng)
        return DemoCase(image: image, labels: labels)
    }

    static func makeCells(size: Int, using rng: inout SeededGenerator) -> DemoCase {
        var labels = Grid<UInt8>(shape: [size, size], repeating: 0)
        var placed: [([Double], Double)] = []
        let target = Int.random(in: 8...16, using: &rng)
        var attempts = 0
        while placed.count < target && attempts < 400 {
            attempts += 1
            let r = Double.random(in: 6...11, using: &rng)
            let c = [Double.random(in: r...(Double(size) - r), using: &rng), Double.random(in: r...(Double(size) - r), using: &rng)]
            // Cells may touch (distance ≥ 0.9 of the radii sum) but not overlap much.
            guard placed.allSatisfy({ hypot($0.0[0] - c[0], $0.0[1] - c[1]) >= 0.92 * ($0.1 + r) }) else { continue }
            placed.append((c, r))
            let ecc = Double.random(in: 0...0.12, using: &rng), phase = Double.random(in: 0...(2 * .pi), using: &rng)
            DemoData.fillRadial(&labels, center: c, maxRadius: r * 1.15, value: 1, onlyOver: 0) { r * (1 + ecc * cos(2 * $0 + phase)) }
        }
        var image = DemoData.render(labels, classMeans: DemoData.classMeans(labels: 1, using: &rng), using: &rng)
        // A darker nucleus in each cell, so intensity alone does not give the mask.
        for (c, r) in placed {
            let nucleus = r * 0.4
            for y in stride(from: Swift.max(0, Int(c[0] - nucleus)), through: Swift.min(size - 1, Int(c[0] + nucleus)), by: 1) {
                for x in stride(from: Swift.max(0, Int(c[1] - nucleus)), through: Swift.min(size - 1, Int(c[1] + nucleus)), by: 1) where hypot(Double(y) - c[0], Double(x) - c[1]) <= nucleus {
                    image[y, x] = Swift.max(0, image[y, x] - 35)
                }
            }
        }
        return DemoCase(image: image, labels: labels)
    }
}
