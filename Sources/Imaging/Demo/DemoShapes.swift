#if canImport(Glibc)
import Glibc
#endif
import Geometry

/// Near-convex and non-convex targets of varied size for the Hadwiger shape priors (one binary
/// label): ellipses/ellipsoids, star-convex lobed blobs, C-shapes (annulus sectors in 2D, bent tube
/// sectors of a torus in 3D) and thin rims (annuli in 2D, open spherical shells in 3D). Objects are
/// kept ≥ 3 voxels apart and off the image border, so each is one connected component.
enum DemoShapes {
    enum Kind: String, CaseIterable {
        case ellipse, star, cshape, rim
    }

    /// One drawn object: its kind and the flat indices of its voxels.
    struct Placed {
        var kind: Kind
        var voxels: [Int]
    }

    /// A case of side `size` in `rank` dimensions (1–3 objects in 2D, 1–2 in 3D).
    static func make(size: Int, rank: Int, using rng: inout SeededGenerator) -> (DemoCase, [Placed]) {
        let shape = Array(repeating: size, count: rank)
        var labels = Grid<UInt8>(shape: shape, repeating: 0)
        var placed: [Placed] = []
        var spheres: [([Double], Double)] = []
        let wanted = Int.random(in: 1...(rank == 2 ? 3 : 2), using: &rng)
        // Radii scale with the image: 128² → 6…30 px, 48³ → 6…15 voxels.
        let rMin = 6.0, rMax = Double(size) * (rank == 2 ? 0.23 : 0.31)
        var attempts = 0
        while placed.count < wanted && attempts < 300 {
            attempts += 1
            let kind = Kind.allCases.randomElement(using: &rng)!
            // Later attempts shrink the object so that a first one always fits.
            let upper = Swift.max(rMin, rMax * (attempts > 100 ? 0.5 : 1))
            let r = Double.random(in: (kind == .rim || kind == .cshape ? Swift.min(upper, rMin + 4) : rMin)...upper, using: &rng)
            let c = (0..<rank).map { _ in Double.random(in: (r + 2)...(Double(size) - r - 3), using: &rng) }
            guard spheres.allSatisfy({ s in zip(s.0, c).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }.squareRoot() > s.1 + r + 3 }) else { continue }
            let inside = rank == 2 ? shape2D(kind, r: r, using: &rng) : shape3D(kind, r: r, using: &rng)
            let voxels = fill(&labels, center: c, radius: r, inside: inside)
            guard !voxels.isEmpty else { continue }
            spheres.append((c, r))
            placed.append(Placed(kind: kind, voxels: voxels))
        }
        let image = DemoData.render(labels, classMeans: DemoData.classMeans(labels: 1, using: &rng), using: &rng)
        return (DemoCase(image: image, labels: labels), placed)
    }

    /// Membership of a point given relative to the object's centre, in pixels (y, x).
    static func shape2D(_ kind: Kind, r: Double, using rng: inout SeededGenerator) -> ([Double]) -> Bool {
        let angle = Double.random(in: 0...(2 * .pi), using: &rng)
        let (ca, sa) = (cos(angle), sin(angle))
        func local(_ p: [Double]) -> (Double, Double) { (ca * p[1] + sa * p[0], -sa * p[1] + ca * p[0]) }
        switch kind {
        case .ellipse:
            let b = r * Double.random(in: 0.45...1, using: &rng)
            return { p in let (u, v) = local(p); return (u / r) * (u / r) + (v / b) * (v / b) <= 1 }
        case .star:
            let k = Double(Int.random(in: 3...5, using: &rng)), a = Double.random(in: 0.3...0.5, using: &rng)
            return { p in
                let (u, v) = local(p)
                return (u * u + v * v).squareRoot() <= r * (1 + a * cos(k * atan2(v, u))) / (1 + a)
            }
        case .cshape:
            let inner = r * Double.random(in: 0.45...0.65, using: &rng), gap = Double.random(in: 0.6...1.05, using: &rng)
            return { p in
                let (u, v) = local(p), d = (u * u + v * v).squareRoot()
                return d <= r && d >= inner && Swift.abs(atan2(v, u)) >= gap
            }
        case .rim:
            let thickness = Double.random(in: 2...4, using: &rng), b = r * Double.random(in: 0.75...1, using: &rng)
            return { p in
                let (u, v) = local(p)
                let outer = (u / r) * (u / r) + (v / b) * (v / b)
                let ir = r - thickness, ib = b - thickness
                return outer <= 1 && (u / ir) * (u / ir) + (v / ib) * (v / ib) > 1
            }
        }
    }

    /// Membership of a point given relative to the object's centre, in voxels (z, y, x).
    static func shape3D(_ kind: Kind, r: Double, using rng: inout SeededGenerator) -> ([Double]) -> Bool {
        let rot = rotation(using: &rng)
        func local(_ p: [Double]) -> [Double] { rot.map { row in row[0] * p[0] + row[1] * p[1] + row[2] * p[2] } }
        switch kind {
        case .ellipse:
            let b = r * Double.random(in: 0.5...1, using: &rng), c = r * Double.random(in: 0.5...1, using: &rng)
            return { p in let q = local(p); return (q[0] / r) * (q[0] / r) + (q[1] / b) * (q[1] / b) + (q[2] / c) * (q[2] / c) <= 1 }
        case .star:
            // Lobes around the equator of the local frame: r(u) = r (1 + a cos(kφ) sinθ)/(1 + a).
            let k = Double(Int.random(in: 3...5, using: &rng)), a = Double.random(in: 0.35...0.55, using: &rng)
            return { p in
                let q = local(p), d = (q[0] * q[0] + q[1] * q[1] + q[2] * q[2]).squareRoot()
                guard d > 0 else { return true }
                let s = (q[1] * q[1] + q[2] * q[2]).squareRoot() / d
                return d <= r * (1 + a * cos(k * atan2(q[1], q[2])) * s) / (1 + a)
            }
        case .cshape:
            // A tube of radius ρ bent along a circle of radius R (a torus) with an angular gap.
            let tube = r * Double.random(in: 0.22...0.3, using: &rng), major = r - tube
            let gap = Double.random(in: 0.6...1.05, using: &rng)
            return { p in
                let q = local(p), planar = (q[1] * q[1] + q[2] * q[2]).squareRoot()
                guard Swift.abs(atan2(q[1], q[2])) >= gap else { return false }
                return (planar - major) * (planar - major) + q[0] * q[0] <= tube * tube
            }
        case .rim:
            // A spherical shell 2–3.5 voxels thick with a cap cut away (an open bowl).
            let thickness = Double.random(in: 2...3.5, using: &rng), opening = cos(Double.random(in: 0.6...1.1, using: &rng))
            return { p in
                let q = local(p), d = (q[0] * q[0] + q[1] * q[1] + q[2] * q[2]).squareRoot()
                return d <= r && d > r - thickness && q[0] < opening * d
            }
        }
    }

    /// A uniformly random 3×3 rotation (from a random unit quaternion).
    static func rotation(using rng: inout SeededGenerator) -> [[Double]] {
        var q = (0..<4).map { _ in rng.gaussian() }
        let n = Swift.max(1e-12, q.reduce(0) { $0 + $1 * $1 }.squareRoot())
        q = q.map { $0 / n }
        let (w, x, y, z) = (q[0], q[1], q[2], q[3])
        return [[1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)],
                [2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)],
                [2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)]]
    }

    /// Sets to 1 every voxel of the ball (`center`, `radius`) where `inside(offset)` holds; returns their flat indices.
    static func fill(_ g: inout Grid<UInt8>, center: [Double], radius: Double, inside: ([Double]) -> Bool) -> [Int] {
        let shape = g.shape, strides = g.strides, rank = g.rank
        let lo = center.enumerated().map { Swift.max(0, Int(($0.1 - radius).rounded(.down))) }
        let hi = center.enumerated().map { Swift.min(shape[$0.0] - 1, Int(($0.1 + radius).rounded(.up))) }
        var out: [Int] = []
        var index = lo
        while true {
            let offset = (0..<rank).map { Double(index[$0]) - center[$0] }
            if inside(offset) {
                let flat = zip(index, strides).reduce(0) { $0 + $1.0 * $1.1 }
                g.storage[flat] = 1
                out.append(flat)
            }
            var axis = rank - 1
            while axis >= 0 {
                index[axis] += 1
                if index[axis] <= hi[axis] { break }
                index[axis] = lo[axis]
                axis -= 1
            }
            if axis < 0 { return out }
        }
    }
}
