#if canImport(Glibc)
import Glibc
#endif
internal import CNIfTI
import Geometry

/// A NIfTI header kept from a file read (no voxel data), so outputs can reuse its geometry.
public final class NIfTIHeader: @unchecked Sendable {
    let image: UnsafeMutablePointer<nifti_image>
    /// Voxel sizes as the file's header stores them, numpy order: nifticlib (and so reading) turns
    /// zero or NaN ones into 1, planning reports them instead.
    public let storedSpacing: [Double]
    init(_ image: UnsafeMutablePointer<nifti_image>, storedSpacing: [Double]? = nil) {
        self.image = image
        let n = image.pointee
        self.storedSpacing = storedSpacing ?? (n.ndim == 2 ? [Double(n.dy), Double(n.dx)] : [Double(n.dz), Double(n.dy), Double(n.dx)])
    }
    deinit { nifti_image_free(image) }

    /// Voxel counts (x, y, z).
    public var dimensions: [Int] { [Int(image.pointee.nx), Int(image.pointee.ny), Int(image.pointee.nz)] }
    public var qformCode: Int { Int(image.pointee.qform_code) }
    public var sformCode: Int { Int(image.pointee.sform_code) }
}

/// NIfTI-1 and NIfTI-2 (`.nii`, `.nii.gz`) through nifticlib. Arrays are in numpy order
/// ([z, y, x]; NIfTI stores x fastest, so the memory layout is unchanged); spacing likewise.
/// A 4th dimension holds channels.
public enum NIfTIFile {
    public static func readImage(path: String) throws -> ImageVolume {
        nifti_set_debug_level(0)
        guard FileSystem.exists(path) else { throw ImagingError("\(path): no such file") }
        // The header first: its claimed size is checked before nifticlib allocates the voxels.
        try checkDimensionCount(path)
        guard let nim = nifti_image_read(path, 0) else {
            throw ImagingError("\(path): cannot read NIfTI (not a NIfTI file, or truncated/corrupt)")
        }
        let header = NIfTIHeader(nim, storedSpacing: storedSpacing(path))
        try checkClaimedSize(nim.pointee, path: path)
        guard nifti_image_load(nim) == 0 else {
            throw ImagingError("\(path): cannot read the NIfTI voxel data (truncated or corrupt)")
        }
        let n = nim.pointee
        guard let data = n.data else { throw ImagingError("\(path): NIfTI file has no voxel data") }
        let nx = Int(n.nx), ny = Int(n.ny), nz = Int(Swift.max(n.nz, 1)), nt = Int(Swift.max(n.nt, 1))
        let planar = n.ndim == 2
        let volumeSize = nx * ny * nz
        let slope = n.scl_slope, inter = n.scl_inter
        let scaled = slope != 0 && !(slope == 1 && inter == 0)
        var isInteger = !scaled
        var channels: [Grid<Float>] = []
        let spacing = planar ? [Double(n.dy), Double(n.dx)] : [Double(n.dz), Double(n.dy), Double(n.dx)]
        let shape = planar ? [ny, nx] : [nz, ny, nx]
        for t in 0..<nt {
            var values = [Float](repeating: 0, count: volumeSize)
            let offset = t * volumeSize
            switch n.datatype {
            case DT_UINT8: copy(data, UInt8.self, offset, &values)
            case DT_INT8: copy(data, Int8.self, offset, &values)
            case DT_INT16: copy(data, Int16.self, offset, &values)
            case DT_UINT16: copy(data, UInt16.self, offset, &values)
            case DT_INT32: copy(data, Int32.self, offset, &values)
            case DT_UINT32: copy(data, UInt32.self, offset, &values)
            case DT_INT64: copy(data, Int64.self, offset, &values)
            case DT_UINT64: copy(data, UInt64.self, offset, &values)
            case DT_FLOAT32: copy(data, Float.self, offset, &values); isInteger = false
            case DT_FLOAT64: copy(data, Double.self, offset, &values); isInteger = false
            default: throw ImagingError("\(path): NIfTI datatype \(n.datatype) is not supported")
            }
            if scaled { for i in 0..<values.count { values[i] = Float(Double(values[i]) * slope + inter) } }
            let validSpacing = spacing.map { $0 > 0 && $0.isFinite ? $0 : 1 }
            channels.append(try Grid(shape: shape, spacing: validSpacing, storage: values))
        }
        nifti_image_unload(nim)  // keep only the header
        let m = n.sform_code > 0 ? n.sto_xyz : n.qform_code > 0 ? n.qto_xyz : diagonal(n.dx, n.dy, n.dz)
        let affine = withUnsafeBytes(of: m.m) { raw -> [[Double]] in
            let d = raw.bindMemory(to: Double.self)
            return (0..<4).map { r in (0..<4).map { c in d[r * 4 + c] } }
        }
        return ImageVolume(channels: channels, header: ImageHeader(spacing: channels[0].spacing, affine: affine, nifti: header),
                           isInteger: isInteger)
    }

    /// dim[0] must be 1…7 (in the header's byte order) before nifticlib converts the header: nifticlib 2.1
    /// indexes its dimension array with it, and a NIfTI-2 dim[0] of 2⁶⁰ crashed it (found by `make fuzz`).
    static func checkDimensionCount(_ path: String) throws {
        var version: Int32 = 0
        guard let raw = nifti_read_header(path, &version, 0) else { return }  // nifti_image_read reports it
        defer { free(raw) }
        // The byte order is the one in which sizeof_hdr reads 348 (NIfTI-1) or 540 (NIfTI-2).
        let ndim: Int64
        if version == 2 {
            let h = raw.assumingMemoryBound(to: nifti_2_header.self).pointee
            ndim = h.sizeof_hdr == 540 ? h.dim.0 : h.dim.0.byteSwapped
        } else {
            let h = raw.assumingMemoryBound(to: nifti_1_header.self).pointee
            ndim = Int64(h.sizeof_hdr == 348 ? h.dim.0 : h.dim.0.byteSwapped)
        }
        guard (1...7).contains(ndim) else {
            throw ImagingError("\(path): the NIfTI header's dim[0] (the number of dimensions) is \(ndim), not 1 to 7; the header is corrupt")
        }
    }

    /// The header's dimensions against the element limit and the file's size (raw voxels must be
    /// in the file; gzip expands at most ~1032×), so a corrupt header is an error, not an allocation.
    static func checkClaimedSize(_ n: nifti_image, path: String) throws {
        guard n.ndim >= 1, n.ndim <= 4, Swift.max(n.nu, 1) == 1, Swift.max(n.nv, 1) == 1, Swift.max(n.nw, 1) == 1 else {
            throw ImagingError("\(path): NIfTI with \(n.ndim) dimensions is not supported (1 to 4)")
        }
        let dims = [n.nt, n.nz, n.ny, n.nx].map { Int(Swift.max($0, 1)) }
        if let problem = ElementLimit.problem(dims, source: path) { throw ImagingError(problem) }
        let count = ElementLimit.product(dims)!
        guard Int(n.nvox) == count, n.nbyper > 0 else {
            throw ImagingError("\(path): the NIfTI header's voxel count \(n.nvox) does not match its dimensions \(Array(dims.reversed()))")
        }
        let sizes: [Int32: Int] = [DT_UINT8: 1, DT_INT8: 1, DT_INT16: 2, DT_UINT16: 2, DT_INT32: 4, DT_UINT32: 4,
                                   DT_INT64: 8, DT_UINT64: 8, DT_FLOAT32: 4, DT_FLOAT64: 8]
        if let size = sizes[n.datatype], size != Int(n.nbyper) {
            throw ImagingError("\(path): NIfTI datatype \(n.datatype) with \(n.nbyper) bytes per voxel; the header is corrupt")
        }
        let bytes = count * Int(n.nbyper)
        var info = stat()
        guard stat(path, &info) == 0 else { throw ImagingError("\(path): cannot read the file's size") }
        let fileSize = Int(info.st_size)
        let available = path.lowercased().hasSuffix(".gz") ? fileSize * 1032 + 65536 : fileSize - Int(n.iname_offset)
        guard bytes <= available else {
            throw ImagingError("\(path): the NIfTI header claims \(Array(dims.reversed())) voxels of \(n.nbyper) bytes (\(bytes) bytes), "
                               + "more than a \(fileSize)-byte file can hold; the file is truncated or corrupt")
        }
    }

    /// pixdim as stored (unchecked header read), numpy order; nil when the header cannot be read.
    static func storedSpacing(_ path: String) -> [Double]? {
        var version: Int32 = 0
        guard let raw = nifti_read_header(path, &version, 0) else { return nil }
        defer { free(raw) }
        let dims: [Double], ndim: Int
        if version == 2 {
            let h = raw.assumingMemoryBound(to: nifti_2_header.self).pointee
            ndim = Int(h.dim.0)
            dims = [h.pixdim.1, h.pixdim.2, h.pixdim.3]
        } else {
            let h = raw.assumingMemoryBound(to: nifti_1_header.self).pointee
            ndim = Int(h.dim.0)
            dims = [Double(h.pixdim.1), Double(h.pixdim.2), Double(h.pixdim.3)]
        }
        return ndim == 2 ? [dims[1], dims[0]] : [dims[2], dims[1], dims[0]]
    }

    private static func copy<T: BinaryInteger>(_ data: UnsafeMutableRawPointer, _ type: T.Type, _ offset: Int, _ out: inout [Float]) {
        let p = data.assumingMemoryBound(to: T.self) + offset
        for i in 0..<out.count { out[i] = Float(p[i]) }
    }

    private static func copy<T: BinaryFloatingPoint>(_ data: UnsafeMutableRawPointer, _ type: T.Type, _ offset: Int, _ out: inout [Float]) {
        let p = data.assumingMemoryBound(to: T.self) + offset
        for i in 0..<out.count { out[i] = Float(p[i]) }
    }

    private static func diagonal(_ dx: Double, _ dy: Double, _ dz: Double) -> nifti_dmat44 {
        var m = nifti_dmat44()
        m.m.0 = (dx, 0, 0, 0)
        m.m.1 = (0, dy, 0, 0)
        m.m.2 = (0, 0, dz, 0)
        m.m.3 = (0, 0, 0, 1)
        return m
    }

    public enum VoxelType: Sendable { case uint8, int16, float32 }

    /// Writes a 2D or 3D grid. With `like`, the source's header (affine, qform/sform, units) is
    /// reused so the output overlays the source; its x/y/z sizes must match the grid.
    public static func write(_ grid: Grid<Float>, path: String, as type: VoxelType, like source: NIfTIHeader? = nil) throws {
        nifti_set_debug_level(0)
        let nx = grid.shape[grid.rank - 1], ny = grid.shape[grid.rank - 2], nz = grid.rank == 3 ? grid.shape[0] : 1
        let (datatype, bytes): (Int32, Int) = type == .uint8 ? (DT_UINT8, 1) : type == .int16 ? (DT_INT16, 2) : (DT_FLOAT32, 4)
        let nim: UnsafeMutablePointer<nifti_image>
        if let source {
            let d = source.dimensions
            guard d == [nx, ny, nz] else {
                throw ImagingError("\(path): grid of shape \(grid.shape) does not match the source header's x/y/z size \(d)")
            }
            guard let copy = nifti_copy_nim_info(source.image) else { throw ImagingError("\(path): cannot copy the NIfTI header") }
            nim = copy
            nim.pointee.ndim = grid.rank == 3 ? 3 : 2
            nim.pointee.dim.0 = nim.pointee.ndim
            nim.pointee.nt = 1; nim.pointee.dim.4 = 1
            nim.pointee.nu = 1; nim.pointee.dim.5 = 1
        } else {
            var dims: [Int64] = [Int64(grid.rank), Int64(nx), Int64(ny), Int64(nz), 1, 1, 1, 1]
            guard let made = nifti_make_new_nim(&dims, datatype, 0) else { throw ImagingError("\(path): cannot create a NIfTI header") }
            nim = made
            let sx = grid.spacing[grid.rank - 1], sy = grid.spacing[grid.rank - 2], sz = grid.rank == 3 ? grid.spacing[0] : 1
            nim.pointee.dx = sx; nim.pointee.pixdim.1 = sx
            nim.pointee.dy = sy; nim.pointee.pixdim.2 = sy
            nim.pointee.dz = sz; nim.pointee.pixdim.3 = sz
            nim.pointee.qform_code = 1
            nim.pointee.qfac = 1
            nim.pointee.sform_code = 1
            nim.pointee.sto_xyz = diagonal(sx, sy, sz)
            nim.pointee.xyz_units = Int32(NIFTI_UNITS_MM)
        }
        defer { nifti_image_free(nim) }
        nim.pointee.datatype = datatype
        nim.pointee.nbyper = Int32(bytes)
        nim.pointee.nvox = Int64(nx * ny * nz)
        nim.pointee.scl_slope = 0
        nim.pointee.scl_inter = 0
        nim.pointee.cal_min = 0
        nim.pointee.cal_max = 0
        guard let buffer = malloc(nx * ny * nz * bytes) else { throw ImagingError("\(path): out of memory") }
        switch type {
        case .uint8:
            let p = buffer.assumingMemoryBound(to: UInt8.self)
            for (i, v) in grid.storage.enumerated() { p[i] = UInt8(clamping: Int(v.rounded())) }
        case .int16:
            let p = buffer.assumingMemoryBound(to: Int16.self)
            for (i, v) in grid.storage.enumerated() { p[i] = Int16(clamping: Int(v.rounded())) }
        case .float32:
            let p = buffer.assumingMemoryBound(to: Float.self)
            for (i, v) in grid.storage.enumerated() { p[i] = v }
        }
        nim.pointee.data = buffer  // freed by nifti_image_free
        // Write beside the target under a temporary name with the same extension, then rename.
        let slash = path.lastIndex(of: "/")
        let dir = slash.map { String(path[...$0]) } ?? ""
        let name = slash.map { String(path[path.index(after: $0)...]) } ?? path
        let tmp = "\(dir).tmp-\(UInt32.random(in: 0...UInt32.max))-\(name)"
        guard nifti_set_filenames(nim, tmp, 0, 1) == 0 else { throw ImagingError("\(path): not a NIfTI file name (.nii or .nii.gz)") }
        nim.pointee.nifti_type = nim.pointee.nifti_type == Int32(NIFTI_FTYPE_NIFTI2_1) ? Int32(NIFTI_FTYPE_NIFTI2_1) : Int32(NIFTI_FTYPE_NIFTI1_1)
        nifti_image_write(nim)
        guard FileSystem.exists(tmp) else { throw ImagingError("\(path): cannot write NIfTI") }
        try FileSystem.rename(tmp, to: path)
    }
}
