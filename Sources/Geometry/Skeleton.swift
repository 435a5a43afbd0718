/// Topology-preserving skeletons that reproduce `skimage.morphology.skeletonize`.
public enum Skeleton {
    /// The skeleton of a 2D mask (skimage's default 2D method: two-sub-iteration parallel
    /// thinning, Zhang–Suen style, with skimage's removal table) or of a 3D mask (Lee et al.
    /// 1994 thinning, skimage's 3D method).
    public static func skeletonize(_ mask: Grid<Bool>) throws -> Grid<Bool> {
        if mask.rank == 2 { return thin2D(mask) }
        return try LeeThinning.skeletonize(mask)
    }

    // MARK: - 2D

    /// Removal classes by 8-neighbourhood code (bit 0 NW, 1 N, 2 NE, 3 E, 4 SE, 5 S, 6 SW, 7 W):
    /// class 1 is removed in the first sub-iteration, 2 in the second, 3 in both. These are the
    /// entries of skimage's table (verified against skimage 0.26 on random masks).
    static let removal2D: [UInt8] = {
        var t = [UInt8](repeating: 0, count: 256)
        for i in [3, 6, 11, 12, 14, 131, 134, 143, 159, 161, 194, 198, 207, 227, 231, 243] { t[i] = 1 }
        for i in [24, 26, 56, 62, 63, 96, 104, 108, 126, 176, 192, 224, 248, 249, 252] { t[i] = 2 }
        for i in [7, 10, 15, 28, 30, 31, 40, 60, 112, 120, 124, 130, 135, 160, 193, 195, 199, 225, 240, 241] { t[i] = 3 }
        return t
    }()

    static func thin2D(_ mask: Grid<Bool>) -> Grid<Bool> {
        let h = mask.shape[0], w = mask.shape[1]
        let pw = w + 2
        var img = [UInt8](repeating: 0, count: (h + 2) * pw)
        var active: [Int] = []
        for y in 0..<h { for x in 0..<w where mask.storage[y * w + x] {
            let i = (y + 1) * pw + x + 1
            img[i] = 1
            active.append(i)
        } }
        let table = removal2D
        var removals: [Int] = []
        img.withUnsafeMutableBufferPointer { s in
            var removed = true
            while removed {
                removed = false
                for pass in 1...2 {
                    removals.removeAll(keepingCapacity: true)
                    // Every decision reads the state before this sub-iteration (parallel thinning).
                    for i in active {
                        let code = Int(s[i - pw - 1]) | Int(s[i - pw]) << 1 | Int(s[i - pw + 1]) << 2 | Int(s[i + 1]) << 3
                            | Int(s[i + pw + 1]) << 4 | Int(s[i + pw]) << 5 | Int(s[i + pw - 1]) << 6 | Int(s[i - 1]) << 7
                        let c = table[code]
                        if c == 3 || Int(c) == pass { removals.append(i) }
                    }
                    if !removals.isEmpty {
                        removed = true
                        for i in removals { s[i] = 0 }
                        active.removeAll { s[$0] == 0 }
                    }
                }
            }
        }
        var out = Grid<Bool>(unchecked: mask.shape, spacing: mask.spacing, storage: [Bool](repeating: false, count: mask.count))
        for i in active { out.storage[(i / pw - 1) * w + (i % pw - 1)] = true }
        return out
    }
}
