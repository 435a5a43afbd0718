#if canImport(Glibc)
import Glibc
#endif
import Geometry

/// The 3D HPL pair's anatomy (BaBLoss, METHODS §5.1): a 64³ volume with anisotropic spacing
/// (1.5 × 1 × 1 mm) holding an organ (label 1, a bumpy ellipsoid) around an off-centre core
/// (label 2). Eight landmarks lie on boundaries, as fetal-brain and knee landmarks lie on tissue
/// boundaries: the organ's extreme voxels along each axis (relation → organ) and the core's two
/// extremes along axis 0 (relation → organ and core, like FeTA's landmarks on two tissues).
enum DemoOrgan3D {
    static let size = 64
    static let spacing = [1.5, 1.0, 1.0]
    static let organLandmarks = ["inferior", "superior", "posterior", "anterior", "right", "left"]
    static let coreLandmarks = ["core-inferior", "core-superior"]
    static var landmarkNames: [String] { (organLandmarks + coreLandmarks).sorted() }
    /// Landmark → the classes whose boundary it lies on (dataset.json "relations").
    static var relations: [String: [Int]] {
        var r: [String: [Int]] = [:]
        for n in organLandmarks { r[n] = [1] }
        for n in coreLandmarks { r[n] = [1, 2] }
        return r
    }

    static func make(using rng: inout SeededGenerator) -> DemoCase {
        let n = size
        var labels = Grid<UInt8>(shape: [n, n, n], spacing: spacing, repeating: 0)
        let centre = (0..<3).map { _ in Double.random(in: 28...36, using: &rng) }
        let radii = [Double.random(in: 13...17, using: &rng), Double.random(in: 17...22, using: &rng), Double.random(in: 15...21, using: &rng)]
        let bump = Double.random(in: 0...0.1, using: &rng), phase = Double.random(in: 0...(2 * .pi), using: &rng)
        let coreCentre = zip(centre, radii).map { c, r in c + Double.random(in: -0.25...0.25, using: &rng) * r }
        let coreRadii = radii.map { $0 * Double.random(in: 0.3...0.45, using: &rng) }
        labels.storage.withUnsafeMutableBufferPointer { p in
            for z in 0..<n { for y in 0..<n { for x in 0..<n {
                let v = [Double(z), Double(y), Double(x)]
                let q = (0..<3).map { (v[$0] - centre[$0]) / radii[$0] }
                let r = (q[0] * q[0] + q[1] * q[1] + q[2] * q[2]).squareRoot()
                let wobble = 1 + bump * cos(3 * atan2(q[1], q[2]) + phase)
                guard r <= wobble else { continue }
                let c = (0..<3).map { (v[$0] - coreCentre[$0]) / coreRadii[$0] }
                p[(z * n + y) * n + x] = c[0] * c[0] + c[1] * c[1] + c[2] * c[2] <= 1 ? 2 : 1
            } } }
        }
        var marks: [String: [Double]] = [:]
        for (value, names) in [(UInt8(1), organLandmarks), (UInt8(2), coreLandmarks)] {
            // Class `value` (the organ counts its core in) and its extreme voxels per axis, the middle one on ties.
            var points: [[Int]] = []
            for z in 0..<n { for y in 0..<n { for x in 0..<n where labels[z, y, x] >= value { points.append([z, y, x]) } } }
            for (k, name) in names.enumerated() {
                let axis = k / 2
                let extreme = k % 2 == 0 ? points.map { $0[axis] }.min()! : points.map { $0[axis] }.max()!
                let ties = points.filter { $0[axis] == extreme }.sorted { $0.lexicographicallyPrecedes($1) }
                marks[name] = ties[ties.count / 2].map(Double.init)
            }
        }
        var means = DemoData.classMeans(labels: 1, using: &rng)
        means.append(means[1] + (means[1] - means[0]) * 0.6)
        var image = DemoData.render(labels, classMeans: means, using: &rng)
        image.spacing = spacing
        return DemoCase(image: image, labels: labels, landmarks: marks)
    }
}
