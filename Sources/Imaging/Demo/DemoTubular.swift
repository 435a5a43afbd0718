#if canImport(Glibc)
import Glibc
#endif
import Geometry

/// Vessel-like trees: smooth random walks with tapering radius and side branches.
enum DemoTubular {
    static func make2D(size: Int, using rng: inout SeededGenerator) -> DemoCase {
        var labels = Grid<UInt8>(shape: [size, size], repeating: 0)
        let trees = Int.random(in: 2...3, using: &rng)
        for _ in 0..<trees {
            // Start on a random border, heading inwards.
            let side = Int.random(in: 0..<4, using: &rng), t = Double.random(in: 0.2...0.8, using: &rng) * Double(size - 1)
            let s = Double(size - 1)
            let (start, angle): ([Double], Double) = [([0, t], Double.pi / 2), ([s, t], -Double.pi / 2),
                                                      ([t, 0], 0), ([t, s], Double.pi)][side]
            branch2D(&labels, from: start, angle: angle + Double.random(in: -0.4...0.4, using: &rng),
                     radius: Double.random(in: 2.2...3.6, using: &rng), depth: 0, using: &rng)
        }
        let image = DemoData.render(labels, classMeans: DemoData.classMeans(labels: 1, using: &rng), using: &rng)
        return DemoCase(image: image, labels: labels)
    }

    static func branch2D(_ labels: inout Grid<UInt8>, from start: [Double], angle: Double, radius: Double, depth: Int,
                         using rng: inout SeededGenerator) {
        var p = start, a = angle, r = radius, turn = 0.0
        let n = Double(labels.shape[0]), steps = Int(Double.random(in: 0.6...1.3, using: &rng) * n)
        for step in 0..<steps {
            DemoData.stamp(&labels, center: p, radius: r, value: 1)
            turn = 0.9 * turn + 0.04 * rng.gaussian()
            a += turn
            p[0] += 0.7 * sin(a); p[1] += 0.7 * cos(a)
            r = Swift.max(0.9, r * 0.997)
            if p[0] < -2 || p[1] < -2 || p[0] > n + 1 || p[1] > n + 1 { return }
            if depth < 2, step > 10, step % 15 == 0, Double.random(in: 0..<1, using: &rng) < 0.25 {
                let side: Double = Bool.random(using: &rng) ? 1 : -1
                branch2D(&labels, from: p, angle: a + side * Double.random(in: 0.5...1.1, using: &rng), radius: r * 0.7,
                         depth: depth + 1, using: &rng)
            }
        }
    }

    static func make3D(size: Int, using rng: inout SeededGenerator) -> DemoCase {
        var labels = Grid<UInt8>(shape: [size, size, size], repeating: 0)
        for _ in 0..<Int.random(in: 2...3, using: &rng) {
            var d = (0..<3).map { _ in rng.gaussian() }
            let start = (0..<3).map { _ in Double.random(in: 0.25...0.75, using: &rng) * Double(size - 1) }
            normalise(&d)
            // Grow both ways from an inner point so the tree spans the volume.
            for sign in [1.0, -1.0] {
                branch3D(&labels, from: start, direction: d.map { $0 * sign }, radius: Double.random(in: 1.6...2.6, using: &rng),
                         depth: 0, using: &rng)
            }
        }
        var image = DemoData.render(labels, classMeans: DemoData.classMeans(labels: 1, using: &rng), using: &rng)
        image.spacing = [1, 1, 1]
        for i in 0..<image.count { image.storage[i] = (image.storage[i] * 4).rounded() }  // int16 MR-like range 0…1020
        return DemoCase(image: image, labels: labels)
    }

    static func normalise(_ v: inout [Double]) {
        let n = (v.reduce(0) { $0 + $1 * $1 }).squareRoot()
        v = n > 0 ? v.map { $0 / n } : [0, 0, 1]
    }

    static func branch3D(_ labels: inout Grid<UInt8>, from start: [Double], direction: [Double], radius: Double, depth: Int,
                         using rng: inout SeededGenerator) {
        var p = start, d = direction, r = radius
        let n = Double(labels.shape[0])
        for step in 0..<Int(n * 1.2) {
            DemoData.stamp(&labels, center: p, radius: r, value: 1)
            for a in 0..<3 { d[a] += 0.12 * rng.gaussian() }
            normalise(&d)
            for a in 0..<3 { p[a] += 0.7 * d[a] }
            r = Swift.max(0.8, r * 0.995)
            if p.contains(where: { $0 < -2 || $0 > n + 1 }) { return }
            if depth < 1, step > 8, step % 12 == 0, Double.random(in: 0..<1, using: &rng) < 0.3 {
                var b = (0..<3).map { d[$0] + 0.9 * rng.gaussian() }
                normalise(&b)
                branch3D(&labels, from: p, direction: b, radius: r * 0.75, depth: depth + 1, using: &rng)
            }
        }
    }
}
