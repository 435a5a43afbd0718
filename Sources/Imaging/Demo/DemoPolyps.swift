#if canImport(Glibc)
import Glibc
#endif
import Geometry

/// Endoscopy-like RGB scenes for ConDSeg: pinkish, textured mucosa with folds, vignetting and
/// specular highlights, and one to three polyps of varied size whose colour differs only
/// slightly from the mucosa and whose edges are blurred into it — the low-contrast,
/// co-occurring targets ConDSeg's contrast-driven design addresses.
enum DemoPolyps {
    /// A case: labels (1 = polyp) and the R, G, B planes on 0…255.
    static func make(size: Int, using rng: inout SeededGenerator) -> DemoCase {
        let n = size * size, s = Double(size)
        var labels = try! Grid<UInt8>(shape: [size, size], storage: [UInt8](repeating: 0, count: n))
        let count = [1, 1, 1, 2, 2, 3][Int.random(in: 0..<6, using: &rng)]
        var centres: [[Double]] = []
        for _ in 0..<count {
            // Sizes from a few percent of the image to a third of it; centres kept apart.
            let r = s * Double.random(in: 0.04...0.2, using: &rng)
            var c = [0.0, 0.0]
            for _ in 0..<20 {
                c = [Double.random(in: r...(s - r), using: &rng), Double.random(in: r...(s - r), using: &rng)]
                if centres.allSatisfy({ hypot($0[0] - c[0], $0[1] - c[1]) > r + s * 0.12 }) { break }
            }
            centres.append(c)
            let k1 = Double.random(in: 0...0.12, using: &rng), k2 = Double.random(in: 0...0.08, using: &rng)
            let p1 = Double.random(in: 0..<(2 * .pi), using: &rng), p2 = Double.random(in: 0..<(2 * .pi), using: &rng)
            let squash = Double.random(in: 0.75...1, using: &rng), tilt = Double.random(in: 0..<(.pi), using: &rng)
            DemoData.fillRadial(&labels, center: c, maxRadius: r * 1.25, value: 1) { t in
                let e = squash / (pow(cos(t - tilt), 2) * squash * squash + pow(sin(t - tilt), 2)).squareRoot()
                return r * e * (1 + k1 * cos(2 * t + p1) + k2 * cos(3 * t + p2))
            }
        }

        // Soft polyp mask (blurred edges) and smooth textures.
        var soft = labels.storage.map { Float($0) }
        soft.withUnsafeMutableBufferPointer { GaussianSmoothing.smooth($0, shape: [size, size], sigma: Array(repeating: Double.random(in: 2...5, using: &rng), count: 2)) }
        func noise(_ sigma: Double) -> [Float] {
            var t = [Float](repeating: 0, count: n)
            t.withUnsafeMutableBufferPointer { p in
                rng.addGaussian(to: p, sigma: 1)
                GaussianSmoothing.smooth(p, shape: [size, size], sigma: [sigma, sigma])
                var peak: Float = 1e-6
                for v in p { peak = Swift.max(peak, Swift.abs(v)) }
                for i in 0..<n { p[i] /= peak }
            }
            return t
        }
        let coarse = noise(Double.random(in: 12...24, using: &rng)), fine = noise(Double.random(in: 1.5...3, using: &rng))
        let polypTexture = noise(2.5)
        // Mucosa colour, a polyp tint a few percent redder/brighter, folds as soft dark bands.
        let base = [Double.random(in: 185...225, using: &rng), Double.random(in: 95...130, using: &rng), Double.random(in: 85...120, using: &rng)]
        let tint = [Double.random(in: 1.03...1.12, using: &rng), Double.random(in: 0.88...1.02, using: &rng), Double.random(in: 0.9...1.04, using: &rng)]
        let foldAngle = Double.random(in: 0..<(.pi), using: &rng), foldFrequency = Double.random(in: 2...4, using: &rng) * 2 * .pi / s
        let foldDepth = Double.random(in: 0.05...0.15, using: &rng), foldPhase = Double.random(in: 0..<(2 * .pi), using: &rng)
        let vignette = Double.random(in: 0.35...0.65, using: &rng)
        var planes = [[Float]](repeating: [Float](repeating: 0, count: n), count: 3)
        for y in 0..<size {
            for x in 0..<size {
                let i = y * size + x
                let u = Double(x) - s / 2, v = Double(y) - s / 2
                let fold = 1 - foldDepth * (0.5 + 0.5 * sin(foldFrequency * (u * cos(foldAngle) + v * sin(foldAngle)) + foldPhase))
                let light = (1 - vignette * (u * u + v * v) / (s * s / 2)) * fold * (1 + 0.12 * Double(coarse[i]) + 0.05 * Double(fine[i]))
                let m = Double(soft[i])
                for c in 0..<3 {
                    let colour = base[c] * (1 + m * (tint[c] - 1 + 0.04 * Double(polypTexture[i])))
                    planes[c][i] = Float(colour * light)
                }
            }
        }
        // Specular highlights: small bright ellipses, more often on the polyps (they are shiny).
        for _ in 0..<Int.random(in: 3...9, using: &rng) {
            var c = [Double.random(in: 0..<s, using: &rng), Double.random(in: 0..<s, using: &rng)]
            if let p = centres.randomElement(using: &rng), Double.random(in: 0..<1, using: &rng) < 0.6 {
                c = [p[0] + Double.random(in: -10...10, using: &rng), p[1] + Double.random(in: -10...10, using: &rng)]
            }
            let ry = Double.random(in: 1...4, using: &rng), rx = Double.random(in: 1...6, using: &rng)
            for y in Swift.max(0, Int(c[0] - ry - 3))...Swift.min(size - 1, Int(c[0] + ry + 3)) {
                for x in Swift.max(0, Int(c[1] - rx - 3))...Swift.min(size - 1, Int(c[1] + rx + 3)) {
                    let d = pow((Double(y) - c[0]) / ry, 2) + pow((Double(x) - c[1]) / rx, 2)
                    let w = Float(exp(-d * d))
                    for k in 0..<3 { planes[k][y * size + x] = planes[k][y * size + x] * (1 - w) + 252 * w }
                }
            }
        }
        let sigma = Float(Double.random(in: 2...5, using: &rng))
        let channels = planes.map { plane -> Grid<Float> in
            var p = plane
            p.withUnsafeMutableBufferPointer { b in
                GaussianSmoothing.smooth(b, shape: [size, size], sigma: [0.7, 0.7])
                rng.addGaussian(to: b, sigma: sigma)
                for i in 0..<n { b[i] = Swift.min(255, Swift.max(0, b[i])) }
            }
            return try! Grid(shape: [size, size], storage: p)
        }
        return DemoCase(image: channels[0], labels: labels, moreChannels: Array(channels[1...]))
    }
}
