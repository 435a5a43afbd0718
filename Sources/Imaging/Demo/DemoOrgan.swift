#if canImport(Glibc)
import Glibc
#endif
import Geometry

/// One smooth organ-like region with a distractor structure, and landmarks at its four
/// extreme boundary points (top, bottom, left, right: the organ voxels with the smallest /
/// largest row and column; ties resolved by the middle voxel).
enum DemoOrgan {
    static func make(size: Int, using rng: inout SeededGenerator) -> DemoCase {
        var labels = Grid<UInt8>(shape: [size, size], repeating: 0)
        let base = Double.random(in: 22...34, using: &rng)
        let c = [Double.random(in: 48...80, using: &rng), Double.random(in: 48...80, using: &rng)]
        let stretch = Double.random(in: 0.75...1.3, using: &rng), tilt = Double.random(in: 0...Double.pi, using: &rng)
        let bump = Double.random(in: 0...0.12, using: &rng), phase = Double.random(in: 0...(2 * .pi), using: &rng)
        DemoData.fillRadial(&labels, center: c, maxRadius: base * 1.6, value: 1) { theta in
            // An ellipse (axes base·stretch, base) rotated by `tilt`, with a gentle third harmonic.
            let t = theta - tilt
            let e = base / ((cos(t) * cos(t)) / (stretch * stretch) + sin(t) * sin(t)).squareRoot()
            return e * (1 + bump * cos(3 * theta + phase))
        }
        var marks: [String: [Double]] = [:]
        var fg: [(Int, Int)] = []
        for y in 0..<size { for x in 0..<size where labels[y, x] == 1 { fg.append((y, x)) } }
        func middle(_ pts: [(Int, Int)]) -> [Double] { let p = pts.sorted { $0 < $1 }[pts.count / 2]; return [Double(p.0), Double(p.1)] }
        let minY = fg.map(\.0).min()!, maxY = fg.map(\.0).max()!, minX = fg.map(\.1).min()!, maxX = fg.map(\.1).max()!
        marks["top"] = middle(fg.filter { $0.0 == minY })
        marks["bottom"] = middle(fg.filter { $0.0 == maxY })
        marks["left"] = middle(fg.filter { $0.1 == minX })
        marks["right"] = middle(fg.filter { $0.1 == maxX })
        // A distractor of similar brightness that is not the organ (rendered, not labelled).
        var scene = labels
        let d = [Double.random(in: 10...118, using: &rng), Double.random(in: 10...118, using: &rng)]
        let radius = Double.random(in: 6...9, using: &rng)
        DemoData.fillRadial(&scene, center: d, maxRadius: 12, value: 2, onlyOver: 0) { _ in radius }
        var means = DemoData.classMeans(labels: 1, using: &rng)
        means.append(means[0] + (means[1] - means[0]) * 0.8)
        let image = DemoData.render(scene, classMeans: means, using: &rng)
        return DemoCase(image: image, labels: labels, landmarks: marks)
    }
}
