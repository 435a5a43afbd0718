/// 3D thinning of Lee, Kashyap & Chu (1994), as skimage's `skeletonize` runs it on 3D input:
/// the volume is zero-padded; six border directions are visited in the order W, E, S, N, U, B
/// (y−, y+, x+, x−, z+, z−); for each, the border voxels that are not end points, keep the
/// Euler characteristic (26-connectivity) and are simple are collected, then re-checked one
/// by one in raster order; stop after a round with no deletion.
enum LeeThinning {
    static func skeletonize(_ mask: Grid<Bool>) throws -> Grid<Bool> {
        guard mask.rank == 3 else { throw GeometryError.invalidShape("Lee thinning needs a 3D mask, got \(mask.shape)") }
        let d = mask.shape[0], h = mask.shape[1], w = mask.shape[2]
        let pd = d + 2, ph = h + 2, pw = w + 2
        let plane = ph * pw
        var img = [UInt8](repeating: 0, count: pd * plane)
        var active: [Int] = []
        for z in 0..<d { for y in 0..<h { for x in 0..<w where mask.storage[(z * h + y) * w + x] {
            let i = ((z + 1) * ph + y + 1) * pw + x + 1
            img[i] = 1
            active.append(i)
        } } }
        // Neighbour k of the 3×3×3 cube is at bit (dz+1)·9 + (dy+1)·3 + (dx+1).
        var deltas = [Int](repeating: 0, count: 27)
        for k in 0..<27 { deltas[k] = (k / 9 - 1) * plane + (k / 3 % 3 - 1) * pw + (k % 3 - 1) }
        // Border directions in skimage's order: y−, y+, x+, x−, z+, z−.
        let borderOffsets = [-pw, pw, 1, -1, plane, -plane]
        let borderCount = d == 1 ? 4 : 6
        let tables = Tables.shared
        var candidates: [Int] = []

        img.withUnsafeMutableBufferPointer { s in
            func neighbourhood(_ i: Int) -> UInt32 {
                var bits: UInt32 = 0
                for k in 0..<27 where s[i + deltas[k]] != 0 { bits |= 1 << UInt32(k) }
                return bits
            }
            var unchanged = 0
            while unchanged < borderCount {
                unchanged = 0
                for b in 0..<borderCount {
                    let off = borderOffsets[b]
                    candidates.removeAll(keepingCapacity: true)
                    for i in active where s[i + off] == 0 {
                        let n = neighbourhood(i)
                        if n.nonzeroBitCount == 2 { continue } // end point
                        if !tables.isEulerInvariant(n) || !tables.isSimple(n) { continue }
                        candidates.append(i)
                    }
                    var changed = false
                    for i in candidates where tables.isSimple(neighbourhood(i)) {
                        s[i] = 0
                        changed = true
                    }
                    if changed { active.removeAll { s[$0] == 0 } } else { unchanged += 1 }
                }
            }
        }
        var out = Grid<Bool>(unchecked: mask.shape, spacing: mask.spacing, storage: [Bool](repeating: false, count: mask.count))
        for i in active {
            let z = i / plane - 1, y = i / pw % ph - 1, x = i % pw - 1
            out.storage[(z * h + y) * w + x] = true
        }
        return out
    }

    final class Tables: Sendable {
        static let shared = Tables()
        /// For each octant: the cube bits of its 8 voxels (bit order z·4 + y·2 + x in the octant).
        let octantBits: [[Int]]
        /// Change of 8·χ in each octant when its centre voxel is set, by octant configuration.
        let eulerDelta: [[Int]]
        /// 26-adjacency inside the cube, centre excluded.
        let adjacency: [UInt32]

        init() {
            let lut = EulerCharacteristic.lut3D(full: true)
            var bits: [[Int]] = []
            var delta: [[Int]] = []
            for z0 in 0...1 { for y0 in 0...1 { for x0 in 0...1 {
                var b: [Int] = []
                for dz in 0...1 { for dy in 0...1 { for dx in 0...1 { b.append((z0 + dz) * 9 + (y0 + dy) * 3 + x0 + dx) } } }
                bits.append(b)
                let centre = 1 << ((1 - z0) * 4 + (1 - y0) * 2 + (1 - x0))
                delta.append((0..<256).map { lut[$0 | centre] - lut[$0 & ~centre] })
            } } }
            octantBits = bits
            eulerDelta = delta
            var adj = [UInt32](repeating: 0, count: 27)
            for a in 0..<27 where a != 13 {
                for b in 0..<27 where b != 13 && b != a {
                    if abs(a / 9 - b / 9) <= 1 && abs(a / 3 % 3 - b / 3 % 3) <= 1 && abs(a % 3 - b % 3) <= 1 {
                        adj[a] |= 1 << UInt32(b)
                    }
                }
            }
            adjacency = adj
        }

        /// Deleting the centre keeps the Euler characteristic (condition 1 of Lee et al.).
        func isEulerInvariant(_ n: UInt32) -> Bool {
            var sum = 0
            for o in 0..<8 {
                var cfg = 0
                let ob = octantBits[o]
                for v in 0..<8 where n >> UInt32(ob[v]) & 1 == 1 { cfg |= 1 << v }
                sum += eulerDelta[o][cfg]
            }
            return sum == 0
        }

        /// The foreground of the 26-neighbourhood (centre removed) is at most one 26-component.
        func isSimple(_ n: UInt32) -> Bool {
            let fg = n & ~(1 << 13)
            if fg == 0 { return true }
            var seen: UInt32 = 1 << UInt32(fg.trailingZeroBitCount)
            var frontier = seen
            while frontier != 0 {
                var grow: UInt32 = 0
                var f = frontier
                while f != 0 {
                    let k = f.trailingZeroBitCount
                    f &= f - 1
                    grow |= adjacency[k]
                }
                grow &= fg & ~seen
                seen |= grow
                frontier = grow
            }
            return seen == fg
        }
    }
}
