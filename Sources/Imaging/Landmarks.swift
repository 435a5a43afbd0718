import FoundationEssentials

/// Named points of one case, in voxel coordinates of numpy axis order ([y, x] or [z, y, x]),
/// fractional allowed.
///
/// File format (`landmarksTr/CASE.json`):
/// `{"space": "voxel" | "world", "points": {"sella": [x, y], "nasion": [x, y], …}}` — each
/// point is given as (x, y) or (x, y, z), i.e. column, row, slice, the way viewers show them.
/// `"world"` points are millimetres through the image's affine (NIfTI) or spacing.
public struct Landmarks: Sendable, Equatable {
    public var points: [String: [Double]]

    public init(points: [String: [Double]]) { self.points = points }

    public var names: [String] { points.keys.sorted() }

    struct FileFormat: Codable {
        var space: String?
        var points: [String: [Double]]
    }

    /// Reads a landmark file; `header` converts world coordinates, `rank` is the image's rank.
    public static func read(path: String, rank: Int, header: ImageHeader? = nil) throws -> Landmarks {
        let json = try JSONDocument.read(path: path)
        let format = "{\"space\": \"voxel\"|\"world\", \"points\": {name: [x, y(, z)]}}"
        guard json.members != nil else { throw JSONDocument.error(path, at: json, "expected a landmark file \(format), found \(json.found)") }
        guard let pointsValue = json["points"] else { throw ImagingError("\(path): missing key \"points\" (a landmark file is \(format))") }
        guard let members = pointsValue.members else {
            throw JSONDocument.error(path, at: pointsValue, "points: expected an object {name: [x, y(, z)]}, found \(pointsValue.found)")
        }
        var file = FileFormat(space: nil, points: [:])
        if let s = json["space"] {
            guard let text = s.string else { throw JSONDocument.error(path, at: s, "space: expected \"voxel\" or \"world\", found \(s.found)") }
            file.space = text
        }
        for (name, value) in members {
            try SafeName.check(name, "landmark name", in: "\(path): points")
            guard let list = value.elements, let xyz = Optional(list.compactMap(\.double)), xyz.count == list.count else {
                throw JSONDocument.error(path, at: value, "points[\"\(name)\"]: expected coordinates [x, y(, z)], found \(value.found)")
            }
            file.points[name] = xyz
        }
        let space = file.space ?? "voxel"
        guard space == "voxel" || space == "world" else {
            throw ImagingError("\(path): \"space\" must be \"voxel\" or \"world\", got \"\(space)\"")
        }
        var out: [String: [Double]] = [:]
        for (name, xyz) in file.points {
            guard xyz.count == rank, xyz.allSatisfy(\.isFinite) else {
                throw ImagingError("\(path): landmark \"\(name)\" needs \(rank) finite coordinates, got \(xyz)")
            }
            var voxel = xyz
            if space == "world" {
                guard let header else { throw ImagingError("\(path): world coordinates need the image header") }
                voxel = try worldToVoxel(xyz, header: header, path: path)
            }
            out[name] = Array(voxel.reversed())  // (x, y, z) → numpy order (z, y, x)
        }
        return Landmarks(points: out)
    }

    /// Writes the landmarks in the file format above (atomically): voxel coordinates, or with
    /// `world: header` millimetres through the image's affine (its spacing where it has none) —
    /// what `read` turns back into the same voxels.
    public func write(path: String, world header: ImageHeader? = nil) throws {
        var xyz = points.mapValues { Array($0.reversed()) }
        if let header { xyz = xyz.mapValues { Self.voxelToWorld($0, header: header) } }
        let file = FileFormat(space: header == nil ? "voxel" : "world", points: xyz)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        try FileSystem.writeAtomically(Array(try encoder.encode(file)), to: path)
    }

    /// The affine applied to (x, y, z) voxel coordinates (or a scaling by spacing when there is none).
    static func voxelToWorld(_ v: [Double], header: ImageHeader) -> [Double] {
        guard let a = header.affine, v.count == 3 else {
            return zip(v, header.spacing.reversed()).map { $0 * $1 }
        }
        return (0..<3).map { r in a[r][0] * v[0] + a[r][1] * v[1] + a[r][2] * v[2] + a[r][3] }
    }

    /// Inverts the affine (or scales by spacing when there is none).
    static func worldToVoxel(_ world: [Double], header: ImageHeader, path: String) throws -> [Double] {
        let n = world.count
        guard let a = header.affine, n == 3 else {
            let spacingXYZ = Array(header.spacing.reversed())
            return zip(world, spacingXYZ).map { $0 / $1 }
        }
        // Solve A[0..2, 0..2] v = w − t by Cramer's rule (3×3).
        let m = (0..<3).map { r in (0..<3).map { c in a[r][c] } }
        let rhs = (0..<3).map { world[$0] - a[$0][3] }
        func det(_ x: [[Double]]) -> Double {
            x[0][0] * (x[1][1] * x[2][2] - x[1][2] * x[2][1]) - x[0][1] * (x[1][0] * x[2][2] - x[1][2] * x[2][0])
                + x[0][2] * (x[1][0] * x[2][1] - x[1][1] * x[2][0])
        }
        let d = det(m)
        guard Swift.abs(d) > 1e-12 else { throw ImagingError("\(path): the image affine is singular") }
        return (0..<3).map { col in
            var mc = m
            for r in 0..<3 { mc[r][col] = rhs[r] }
            return det(mc) / d
        }
    }
}
