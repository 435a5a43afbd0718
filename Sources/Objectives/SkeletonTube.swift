import Geometry

/// Skeleton Recall's target (Kirchhoff et al., ECCV 2024; METHODS §6), one case: the skeleton
/// of the binary foreground, dilated twice with the cross (a "tube"), split by class.
public enum SkeletonTube {
    /// C channel-major masks (1/0); channel 0 (background) is all 0.
    public static func compute(_ labels: Grid<Int32>, classes: Int) throws -> [Double] {
        let n = labels.count
        var out = [Double](repeating: 0, count: classes * n)
        let foreground = labels.map { $0 > 0 }
        guard foreground.storage.contains(true) else { return out }
        let skeleton = try Skeleton.skeletonize(foreground)
        let tube = try Morphology.dilate(Morphology.dilate(skeleton, .cross), .cross)
        for i in 0..<n where tube.storage[i] {
            let c = Int(labels.storage[i])
            if c > 0 && c < classes { out[c * n + i] = 1 }
        }
        return out
    }
}
