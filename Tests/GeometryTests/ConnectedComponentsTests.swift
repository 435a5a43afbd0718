import XCTest
@testable import Geometry

final class ConnectedComponentsTests: XCTestCase {
    func testMatchesScipyLabel2D() throws {
        let m = try Fixture.mask("cc2d_mask")
        for conn in [Connectivity.four, .eight] {
            let expected = try Fixture.ints("cc2d_labels\(conn.rawValue)")
            let cc = try ConnectedComponents.label(m, connectivity: conn)
            XCTAssertEqual(cc.labels.storage, expected.storage, "connectivity \(conn.rawValue)")
            XCTAssertEqual(cc.count, Int(expected.storage.max()!))
            XCTAssertEqual(cc.sizes.reduce(0, +), m.storage.filter { $0 }.count)
            XCTAssertEqual(try ConnectedComponents.count(m, connectivity: conn), cc.count)
        }
    }

    func testMatchesScipyLabel3D() throws {
        let m = try Fixture.mask("cc3d_mask")
        for conn in [Connectivity.six, .eighteen, .twentySix] {
            let expected = try Fixture.ints("cc3d_labels\(conn.rawValue)")
            let cc = try ConnectedComponents.label(m, connectivity: conn)
            XCTAssertEqual(cc.labels.storage, expected.storage, "connectivity \(conn.rawValue)")
            for k in 1...cc.count {
                XCTAssertEqual(cc.sizes[k - 1], expected.storage.filter { $0 == Int32(k) }.count)
            }
        }
    }

    func testMultiLabelMatchesCc3dPartition() throws {
        try checkMultiLabel("ccmulti_map", "ccmulti_labels8", .eight)
        try checkMultiLabel("ccmulti3d_map", "ccmulti3d_labels6", .six)
        try checkMultiLabel("ccmulti3d_map", "ccmulti3d_labels26", .twentySix)
    }

    func checkMultiLabel(_ mapName: String, _ expectedName: String, _ connectivity: Connectivity) throws {
        let map = try Fixture.ints(mapName)
        let expected = try Fixture.ints(expectedName)
        let cc = try ConnectedComponents.label(map, connectivity: connectivity)
        XCTAssertEqual(cc.count, Int(expected.storage.max()!))
        // Same partition: the label correspondence is a bijection.
        var forward: [Int32: Int32] = [:], backward: [Int32: Int32] = [:]
        for i in 0..<map.count {
            let a = cc.labels.storage[i], b = expected.storage[i]
            XCTAssertEqual(a == 0, b == 0)
            if let f = forward[a] { XCTAssertEqual(f, b) } else { forward[a] = b }
            if let g = backward[b] { XCTAssertEqual(g, a) } else { backward[b] = a }
        }
    }

    func testSlabSeamsMergeOnALargeGrid() throws {
        // A U shape whose arms meet only at the bottom: labelled in parallel slabs.
        var m = Grid(shape: [200, 30], repeating: false)
        for y in 0..<200 { m[y, 2] = true; m[y, 27] = true }
        for x in 2...27 { m[199, x] = true }
        m[0, 10] = true
        let cc = try ConnectedComponents.label(m, connectivity: .four)
        XCTAssertEqual(cc.count, 2)
        XCTAssertEqual(cc.labels[0, 2], 1)
        XCTAssertEqual(cc.labels[0, 10], 2)
        XCTAssertEqual(cc.labels[0, 27], 1)
    }

    func testRejectsConnectivityOfWrongRank() {
        XCTAssertThrowsError(try ConnectedComponents.label(Grid(shape: [2, 2], repeating: true), connectivity: .six))
        XCTAssertThrowsError(try ConnectedComponents.label(Grid(shape: [2, 2, 2], repeating: true), connectivity: .eight))
    }

    /// Random masks and multi-label maps of many shapes (odd widths, single columns, enough rows
    /// for several parallel slabs) against a raster-order flood fill, for every connectivity:
    /// labels, count and sizes exactly.
    func testRandomGridsMatchFloodFill() throws {
        var rng = SeededGenerator(seed: 16)
        let shapes2D = [[1, 1], [1, 37], [37, 1], [40, 9], [33, 64], [70, 131]]
        let shapes3D = [[1, 1, 1], [3, 1, 17], [20, 7, 9], [18, 12, 33], [5, 30, 1]]
        for shape in shapes2D + shapes3D {
            let n = shape.reduce(1, *)
            for connectivity in Connectivity.allCases where (try? connectivity.validate(rank: shape.count)) != nil {
                for density in [0.2, 0.5, 0.8] {
                    let mask = try Grid(shape: shape, storage: (0..<n).map { _ in Double.random(in: 0..<1, using: &rng) < density })
                    let got = try ConnectedComponents.label(mask, connectivity: connectivity)
                    let want = Self.floodFill(mask.storage.map { $0 ? 1 : 0 }, shape: shape, connectivity: connectivity)
                    let what = "shape \(shape) connectivity \(connectivity.rawValue) density \(density)"
                    XCTAssertEqual(got.labels.storage, want.labels, what)
                    XCTAssertEqual(got.count, want.sizes.count, what)
                    XCTAssertEqual(got.sizes, want.sizes, what)
                    XCTAssertEqual(try ConnectedComponents.count(mask, connectivity: connectivity), want.sizes.count, what)
                }
                let map = try Grid(shape: shape, storage: (0..<n).map { _ in UInt8.random(in: 0...3, using: &rng) })
                let got = try ConnectedComponents.label(map, connectivity: connectivity)
                let want = Self.floodFill(map.storage.map(Int.init), shape: shape, connectivity: connectivity)
                XCTAssertEqual(got.labels.storage, want.labels, "multi-label shape \(shape) connectivity \(connectivity.rawValue)")
                XCTAssertEqual(got.sizes, want.sizes, "multi-label shape \(shape) connectivity \(connectivity.rawValue)")
            }
        }
    }

    /// Labels, count and sizes of `mask` against the flood fill, for every connectivity of its rank.
    func checkMask(_ mask: Grid<Bool>, _ what: String) throws {
        for connectivity in Connectivity.allCases where (try? connectivity.validate(rank: mask.rank)) != nil {
            let got = try ConnectedComponents.label(mask, connectivity: connectivity)
            let want = Self.floodFill(mask.storage.map { $0 ? 1 : 0 }, shape: mask.shape, connectivity: connectivity)
            let w = "\(what) shape \(mask.shape) connectivity \(connectivity.rawValue)"
            XCTAssertEqual(got.labels.storage, want.labels, w)
            XCTAssertEqual(got.sizes, want.sizes, w)
            XCTAssertEqual(try ConnectedComponents.count(mask, connectivity: connectivity), want.sizes.count, w)
        }
    }

    /// Masks run through a bit-packed row scan (64-bit words, windows read 57 bits at a time, a
    /// longer path past that) and 26-connected runs skip rows a covering run already reached:
    /// widths around the word and window sizes, runs longer than 56, empty and full volumes,
    /// single voxels, and 20–34 planes so that slab seams (planes 0, 2, 4, … here) fall inside.
    func testMaskRowBitsAndCoveringRunsMatchFloodFill() throws {
        var rng = SeededGenerator(seed: 26)
        for shape in [[20, 3, 55], [20, 4, 56], [18, 3, 57], [17, 3, 63], [20, 2, 64], [20, 3, 65], [20, 2, 127], [17, 2, 130], [3, 2, 200],
                      [70, 129], [40, 190]] {
            let n = shape.reduce(1, *)
            try checkMask(Grid(shape: shape, repeating: false), "empty")
            try checkMask(Grid(shape: shape, repeating: true), "full")
            for density in [0.03, 0.35, 0.9, 0.97] {
                try checkMask(Grid(shape: shape, storage: (0..<n).map { _ in Double.random(in: 0..<1, using: &rng) < density }),
                              "density \(density)")
            }
            // Rows that are all set but for one hole, so windows span most of the row.
            try checkMask(Grid(shape: shape, storage: (0..<n).map { i in i % shape.last! != (i / shape.last!) * 7 % shape.last! }), "holes")
            // One voxel, at a corner and inside.
            var one = Grid(shape: shape, repeating: false)
            one.storage[n - 1] = true
            one.storage[n / 2] = true
            try checkMask(one, "single voxels")
        }
    }

    /// Components that meet only through an edge or a corner, across every plane (so across
    /// every slab seam), and components touching the volume's faces.
    func testDiagonalContactsAcrossSeamsAndFaces() throws {
        let (nz, ny, nx) = (34, 5, 70)
        // Staircases through all planes: (z, z mod ny, x0 + z) meet by corners, (z, 2, x0 + z)
        // by edges in (z, x), (z, z mod ny, 3) by edges in (z, y); with and without 2-voxel stems.
        for (dyStep, dxStep, stem) in [(1, 1, 0), (0, 1, 0), (1, 0, 0), (1, 1, 2), (1, -1, 1)] {
            var m = Grid(shape: [nz, ny, nx], repeating: false)
            for z in 0..<nz {
                let y = dyStep == 0 ? 2 : z % ny
                let x = (dxStep < 0 ? 40 : 30) + dxStep * z
                for k in 0...stem { m[z, y, x + k] = true }
            }
            try checkMask(m, "staircase dy \(dyStep) dx \(dxStep) stem \(stem)")
            let got = try ConnectedComponents.label(m, connectivity: .twentySix)
            // Every step lands on a row that wraps (y back to 0) or one row down: all one component.
            if dyStep == 1 && stem == 0 { XCTAssertEqual(got.count, 1 + nz / ny - (nz % ny == 0 ? 1 : 0)) }
        }
        // Faces: every voxel on the volume's boundary, plus random voxels inside.
        var rng = SeededGenerator(seed: 6)
        var f = Grid(shape: [nz, ny, nx], repeating: false)
        for z in 0..<nz { for y in 0..<ny { for x in 0..<nx {
            let face = z == 0 || z == nz - 1 || y == 0 || y == ny - 1 || x == 0 || x == nx - 1
            f[z, y, x] = face || Double.random(in: 0..<1, using: &rng) < 0.2
        } } }
        try checkMask(f, "faces")
        // Alternate planes full and empty but for single corner voxels linking them.
        var g = Grid(shape: [nz, ny, nx], repeating: false)
        for z in Swift.stride(from: 0, to: nz, by: 2) { for y in 0..<ny { for x in 0..<nx { g[z, y, x] = true } } }
        for z in Swift.stride(from: 1, to: nz, by: 4) { g[z, z % ny, (z * 13) % nx] = true }
        try checkMask(g, "planes joined by single voxels")
    }

    /// Reference labelling: a breadth-first fill from each unlabelled non-zero voxel in raster
    /// order, joining neighbours of equal value.
    static func floodFill(_ keys: [Int], shape: [Int], connectivity: Connectivity) -> (labels: [Int32], sizes: [Int]) {
        let (nz, ny, nx) = shape.count == 3 ? (shape[0], shape[1], shape[2]) : (1, shape[0], shape[1])
        var offsets: [(Int, Int, Int)] = []
        for dz in -1...1 { for dy in -1...1 { for dx in -1...1 where (shape.count == 3 || dz == 0) && connectivity.contains((dz, dy, dx)) {
            offsets.append((dz, dy, dx))
        } } }
        var labels = [Int32](repeating: 0, count: keys.count), sizes: [Int] = []
        for start in keys.indices where keys[start] != 0 && labels[start] == 0 {
            sizes.append(0)
            let l = Int32(sizes.count)
            labels[start] = l
            var queue = [start], head = 0
            while head < queue.count {
                let v = queue[head]; head += 1
                sizes[Int(l) - 1] += 1
                let z = v / (ny * nx), y = v / nx % ny, x = v % nx
                for (dz, dy, dx) in offsets {
                    let (z2, y2, x2) = (z + dz, y + dy, x + dx)
                    guard z2 >= 0, z2 < nz, y2 >= 0, y2 < ny, x2 >= 0, x2 < nx else { continue }
                    let w = (z2 * ny + y2) * nx + x2
                    if labels[w] == 0 && keys[w] == keys[start] { labels[w] = l; queue.append(w) }
                }
            }
        }
        return (labels, sizes)
    }
}
