/// Euler characteristic χ of a binary 2D/3D mask from local 2×2(×2) configurations.
///
/// With 8/26-connected foreground, the mask is the union of closed pixels/voxels; with 4/6, the
/// cubical complex on pixel/voxel centres. Each window of the zero-padded grid adds the cells it
/// holds, weighted by the number of windows that share them, so χ is exact and integer.
public enum EulerCharacteristic {
    public static func compute(_ mask: Grid<Bool>, connectivity: Connectivity) throws -> Int {
        try connectivity.validate(rank: mask.rank)
        let full = connectivity == .eight || connectivity == .twentySix
        if connectivity == .eighteen {
            throw GeometryError.invalidArgument("the Euler characteristic is defined for 6 or 26 connectivity in 3D, not 18")
        }
        let table = mask.rank == 2 ? lut2D(full: full) : lut3D(full: full)
        let sum = windowSum(mask, table: table)
        let scale = mask.rank == 2 ? 4 : 8
        return sum / scale
    }

    /// Gray's bit-quad counts of a 2D mask over the (H+1)×(W+1) windows of the zero-padded image.
    public struct BitQuads: Sendable, Equatable {
        public var q0 = 0, q1 = 0, q2 = 0, q3 = 0, q4 = 0, qd = 0
        /// χ for 4- and 8-connected foreground.
        public var euler4: Int { (q1 - q3 + 2 * qd) / 4 }
        public var euler8: Int { (q1 - q3 - 2 * qd) / 4 }
        /// Pixel count, (Q1 + 2Q2 + 3Q3 + 4Q4 + 2QD)/4.
        public var area: Int { (q1 + 2 * q2 + 3 * q3 + 4 * q4 + 2 * qd) / 4 }
        /// Gray's perimeter estimate Q1 + Q2 + Q3 + 2·QD.
        public var perimeter: Int { q1 + q2 + q3 + 2 * qd }
    }

    public static func bitQuads(_ mask: Grid<Bool>) throws -> BitQuads {
        guard mask.rank == 2 else { throw GeometryError.invalidShape("bit-quads need a 2D mask, got shape \(mask.shape)") }
        var hist = [Int](repeating: 0, count: 16)
        forEachWindow2D(mask) { cfg in hist[cfg] += 1 }
        var q = BitQuads()
        for cfg in 0..<16 {
            let bits = cfg.nonzeroBitCount
            switch bits {
            case 0: q.q0 += hist[cfg]
            case 1: q.q1 += hist[cfg]
            case 3: q.q3 += hist[cfg]
            case 4: q.q4 += hist[cfg]
            default:
                // Bits: 1 = top-left, 2 = top-right, 4 = bottom-left, 8 = bottom-right.
                if cfg == 0b1001 || cfg == 0b0110 { q.qd += hist[cfg] } else { q.q2 += hist[cfg] }
            }
        }
        return q
    }

    // MARK: - Tables

    /// 4·χ contribution of each 2×2 configuration (bit 1 TL, 2 TR, 4 BL, 8 BR).
    static func lut2D(full: Bool) -> [Int] {
        let pairs = [(0, 1), (2, 3), (0, 2), (1, 3)]
        return (0..<16).map { c in
            let on = { (b: Int) in c >> b & 1 == 1 }
            let pixels = c.nonzeroBitCount
            if full {
                let edges = pairs.filter { on($0.0) || on($0.1) }.count
                return 4 * (c != 0 ? 1 : 0) - 2 * edges + pixels
            } else {
                let edges = pairs.filter { on($0.0) && on($0.1) }.count
                return pixels - 2 * edges + 4 * (c == 15 ? 1 : 0)
            }
        }
    }

    /// 8·χ contribution of each 2×2×2 configuration (bit = z·4 + y·2 + x).
    static func lut3D(full: Bool) -> [Int] {
        var pairs: [(Int, Int)] = []
        var quads: [[Int]] = []
        for a in 0..<8 { for b in (a + 1)..<8 where (a ^ b).nonzeroBitCount == 1 { pairs.append((a, b)) } }
        for axisBit in [1, 2, 4] {
            for side in [0, axisBit] {
                quads.append((0..<8).filter { $0 & axisBit == side })
            }
        }
        return (0..<256).map { c in
            let on = { (b: Int) in c >> b & 1 == 1 }
            let voxels = c.nonzeroBitCount
            if full {
                let faces = pairs.filter { on($0.0) || on($0.1) }.count
                let edges = quads.filter { $0.contains(where: on) }.count
                return 8 * (c != 0 ? 1 : 0) - 4 * edges + 2 * faces - voxels
            } else {
                let edges = pairs.filter { on($0.0) && on($0.1) }.count
                let squares = quads.filter { $0.allSatisfy(on) }.count
                return voxels - 2 * edges + 4 * squares - 8 * (c == 255 ? 1 : 0)
            }
        }
    }

    // MARK: - Window scans

    static func windowSum(_ mask: Grid<Bool>, table: [Int]) -> Int {
        if mask.rank == 2 { return windowSum2D(mask, table: table) }
        return windowSum3D(mask, table: table)
    }

    /// Visits the configuration of every 2×2 window of the zero-padded image.
    static func forEachWindow2D(_ mask: Grid<Bool>, _ body: (Int) -> Void) {
        let h = mask.shape[0], w = mask.shape[1]
        mask.storage.withUnsafeBufferPointer { m in
            for wy in 0...h {
                // Window at (wy, wx) covers pixels (wy-1..wy, wx-1..wx).
                let top = wy - 1, bottom = wy
                var prev = 0 // bits of the left column (TL=1, BL=4) for the next window
                for wx in 0...w {
                    var right = 0
                    if wx < w {
                        if top >= 0 && m[top * w + wx] { right |= 2 }
                        if bottom < h && m[bottom * w + wx] { right |= 8 }
                    }
                    body(prev | right)
                    prev = right >> 1
                }
            }
        }
    }

    /// Σ table[configuration] over the 2×2 windows of the zero-padded image, rows in parallel.
    static func windowSum2D(_ mask: Grid<Bool>, table: [Int]) -> Int {
        let h = mask.shape[0], w = mask.shape[1]
        var partial = [Int](repeating: 0, count: h + 1)
        mask.storage.withUnsafeBufferPointer { m in
            partial.withUnsafeMutableBufferPointer { pb in
                table.withUnsafeBufferPointer { t in
                    let mp = m.baseAddress!, tp = t.baseAddress!, out = SharedPointer(pb.baseAddress!)
                    Parallel.forRanges(h + 1, grain: max(1, 65536 / max(1, w))) { rows in
                        for wy in rows {
                            let top = wy - 1
                            let hasTop = top >= 0, hasBottom = wy < h
                            var sum = 0, prev = 0
                            for wx in 0..<w {
                                var right = 0
                                if hasTop && mp[top * w + wx] { right |= 2 }
                                if hasBottom && mp[wy * w + wx] { right |= 8 }
                                sum += tp[prev | right]
                                prev = right >> 1
                            }
                            out[wy] = sum + tp[prev]
                        }
                    }
                }
            }
        }
        return partial.reduce(0, +)
    }

    static func windowSum3D(_ mask: Grid<Bool>, table: [Int]) -> Int {
        let d = mask.shape[0], h = mask.shape[1], w = mask.shape[2]
        var partial = [Int](repeating: 0, count: d + 1)
        mask.storage.withUnsafeBufferPointer { m in
            partial.withUnsafeMutableBufferPointer { pb in
                let out = SharedPointer(pb.baseAddress!)
                let mp = m.baseAddress!
                table.withUnsafeBufferPointer { t in
                    let tp = t.baseAddress!
                    Parallel.forRanges(d + 1, grain: max(1, 65536 / max(1, h * w))) { r in
                        for wz in r {
                            var s = 0
                            for wy in 0...h {
                                var prev = 0
                                for wx in 0...w {
                                    var right = 0
                                    if wx < w {
                                        // Bits of the x = 1 column: (z, y) ∈ {0,1}², bit z·4 + y·2 + 1.
                                        let z0 = wz - 1, y0 = wy - 1
                                        let zIn0 = z0 >= 0, zIn1 = wz < d, yIn0 = y0 >= 0, yIn1 = wy < h
                                        if zIn0 && yIn0 && mp[(z0 * h + y0) * w + wx] { right |= 0b0000_0010 }
                                        if zIn0 && yIn1 && mp[(z0 * h + wy) * w + wx] { right |= 0b0000_1000 }
                                        if zIn1 && yIn0 && mp[(wz * h + y0) * w + wx] { right |= 0b0010_0000 }
                                        if zIn1 && yIn1 && mp[(wz * h + wy) * w + wx] { right |= 0b1000_0000 }
                                    }
                                    s += tp[prev | right]
                                    prev = right >> 1
                                }
                            }
                            out[wz] = s
                        }
                    }
                }
            }
        }
        return partial.reduce(0, +)
    }
}
