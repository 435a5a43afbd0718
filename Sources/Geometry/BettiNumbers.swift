/// Betti numbers of a binary mask: foreground 8/26-connected, background 4/6-connected.
///
/// β0 = foreground components; in 2D β1 = holes (background components not touching the
/// border); in 3D β2 = cavities and β1 = tunnels. Uses β0 − β1 (+ β2) = χ, so only one
/// labelling per dimension is needed beyond the Euler characteristic.
public struct BettiNumbers: Sendable, Equatable, CustomStringConvertible {
    public var b0: Int
    public var b1: Int
    /// Always 0 in 2D.
    public var b2: Int

    public init(b0: Int, b1: Int, b2: Int = 0) {
        self.b0 = b0
        self.b1 = b1
        self.b2 = b2
    }

    public var description: String { "β=(\(b0), \(b1), \(b2))" }

    /// `gudhiCompatible` reproduces GUDHI's cubical persistence count, which reports β0 = 1 for
    /// an empty mask (METHODS §7); the default reports the true β0 = 0.
    public init(_ mask: Grid<Bool>, gudhiCompatible: Bool = false) throws {
        let rank = mask.rank
        let b0 = try ConnectedComponents.count(mask, connectivity: .maximal(rank: rank))
        let chi = try EulerCharacteristic.compute(mask, connectivity: .maximal(rank: rank))
        if rank == 2 {
            self.init(b0: gudhiCompatible ? max(b0, 1) : b0, b1: b0 - chi)
        } else {
            let b2 = try Self.enclosedBackgroundComponents(mask)
            self.init(b0: gudhiCompatible ? max(b0, 1) : b0, b1: b0 + b2 - chi, b2: b2)
        }
    }

    /// Background components (minimal connectivity) that do not touch the grid border.
    public static func enclosedBackgroundComponents(_ mask: Grid<Bool>) throws -> Int {
        let background = mask.map { !$0 }
        let cc = try ConnectedComponents.label(background, connectivity: .minimal(rank: mask.rank))
        guard cc.count > 0 else { return 0 }
        var touches = [Bool](repeating: false, count: cc.count + 1)
        let shape = mask.shape
        let strides = mask.strides
        cc.labels.storage.withUnsafeBufferPointer { lab in
            // Walk only the border faces.
            for axis in 0..<shape.count where shape[axis] > 0 {
                for side in [0, shape[axis] - 1] {
                    forEachIndex(onFace: axis, at: side, shape: shape, strides: strides) { touches[Int(lab[$0])] = true }
                }
            }
        }
        touches[0] = false
        return cc.count - touches.filter { $0 }.count
    }

    static func forEachIndex(onFace axis: Int, at position: Int, shape: [Int], strides: [Int], _ body: (Int) -> Void) {
        let others = (0..<shape.count).filter { $0 != axis }
        let base = position * strides[axis]
        if others.count == 1 {
            for i in 0..<shape[others[0]] { body(base + i * strides[others[0]]) }
        } else {
            for i in 0..<shape[others[0]] {
                for j in 0..<shape[others[1]] { body(base + i * strides[others[0]] + j * strides[others[1]]) }
            }
        }
    }
}
