internal import CLibTIFF
import Geometry

/// TIFF through libtiff: 8/16/32-bit unsigned, signed or float samples, 1, 3 or 4 samples per
/// pixel (alpha dropped), strips or tiles; a multi-page file is a 3D volume (pages = depth).
public enum TIFFFile {
    public static func readImage(path: String) throws -> ImageVolume {
        contour_tiff_install_handlers()
        contour_tiff_clear_error()
        guard let tif = TIFFOpen(path, "r") else { throw ImagingError("\(path): cannot open TIFF: \(lastError())") }
        defer { TIFFClose(tif) }
        var pages: [[[Float]]] = []  // page → channel → pixels
        var width = 0, height = 0, channelCount = 0
        var isInteger = true
        var spacingXY: (Double, Double)? = nil
        repeat {
            var w: UInt32 = 0, h: UInt32 = 0, bits: UInt16 = 0, samples: UInt16 = 0, format: UInt16 = 0, planar: UInt16 = 0
            guard contour_tiff_get_u32(tif, UInt32(TIFFTAG_IMAGEWIDTH), &w) == 1, contour_tiff_get_u32(tif, UInt32(TIFFTAG_IMAGELENGTH), &h) == 1 else {
                throw ImagingError("\(path): TIFF page \(pages.count) has no image size")
            }
            _ = contour_tiff_get_u16_default(tif, UInt32(TIFFTAG_BITSPERSAMPLE), &bits)
            _ = contour_tiff_get_u16_default(tif, UInt32(TIFFTAG_SAMPLESPERPIXEL), &samples)
            _ = contour_tiff_get_u16_default(tif, UInt32(TIFFTAG_SAMPLEFORMAT), &format)
            _ = contour_tiff_get_u16_default(tif, UInt32(TIFFTAG_PLANARCONFIG), &planar)
            guard [8, 16, 32].contains(bits) else { throw ImagingError("\(path): \(bits)-bit TIFF samples are not supported (8, 16, 32)") }
            guard [1, 3, 4].contains(samples) else { throw ImagingError("\(path): \(samples) samples per pixel are not supported (1, 3, 4)") }
            guard planar == UInt16(PLANARCONFIG_CONTIG) || samples == 1 else {
                throw ImagingError("\(path): planar-separate multi-sample TIFF is not supported")
            }
            if pages.isEmpty {
                width = Int(w); height = Int(h); channelCount = samples == 1 ? 1 : 3
                var xr: Float = 0, yr: Float = 0, unit: UInt16 = 0
                if contour_tiff_get_float(tif, UInt32(TIFFTAG_XRESOLUTION), &xr) == 1, contour_tiff_get_float(tif, UInt32(TIFFTAG_YRESOLUTION), &yr) == 1,
                   contour_tiff_get_u16_default(tif, UInt32(TIFFTAG_RESOLUTIONUNIT), &unit) == 1, xr > 0, yr > 0 {
                    let mm = unit == UInt16(RESUNIT_CENTIMETER) ? 10.0 : unit == UInt16(RESUNIT_INCH) ? 25.4 : 0
                    if mm > 0 { spacingXY = (mm / Double(xr), mm / Double(yr)) }
                }
            } else if Int(w) != width || Int(h) != height || (samples == 1 ? 1 : 3) != channelCount {
                throw ImagingError("\(path): TIFF page \(pages.count) has a different size or channel count than page 0")
            }
            if format == UInt16(SAMPLEFORMAT_IEEEFP) { isInteger = false }
            let bytesPerSample = Int(bits) / 8
            let rowBytes = Int(TIFFScanlineSize64(tif))
            // Sizes are claims of the header: bounded (all pages together) before anything is allocated.
            if let problem = ElementLimit.problem([pages.count + 1, height, width, Int(samples)], source: "\(path) (TIFF page \(pages.count))") {
                throw ImagingError(problem)
            }
            guard rowBytes == width * Int(samples) * bytesPerSample else {
                throw ImagingError("\(path): TIFF page \(pages.count) has \(rowBytes)-byte rows, not \(width) × \(samples) × \(bytesPerSample) bytes "
                                   + "(subsampled or packed layouts are not supported)")
            }
            var raw = [UInt8](repeating: 0, count: rowBytes * height)
            if TIFFIsTiled(tif) != 0 {
                try readTiles(tif, into: &raw, width: width, height: height, pixelBytes: bytesPerSample * Int(samples), path: path)
            } else {
                for y in 0..<height {
                    let ok = raw.withUnsafeMutableBytes { TIFFReadScanline(tif, $0.baseAddress! + y * rowBytes, UInt32(y), 0) }
                    guard ok == 1 else { throw ImagingError("\(path): cannot read TIFF row \(y) of page \(pages.count): \(lastError())") }
                }
            }
            var planes = [[Float]](repeating: [Float](repeating: 0, count: width * height), count: channelCount)
            raw.withUnsafeBytes { buf in
                for y in 0..<height {
                    for x in 0..<width {
                        for c in 0..<channelCount {
                            let offset = y * rowBytes + (x * Int(samples) + c) * bytesPerSample
                            planes[c][y * width + x] = sample(buf, offset, bits: bits, format: format)
                        }
                    }
                }
            }
            pages.append(planes)
        } while TIFFReadDirectory(tif) == 1
        let (sx, sy) = spacingXY ?? (1, 1)
        let channels: [Grid<Float>]
        if pages.count == 1 {
            channels = try pages[0].map { try Grid(shape: [height, width], spacing: [sy, sx], storage: $0) }
        } else {
            channels = try (0..<channelCount).map { c in
                try Grid(shape: [pages.count, height, width], spacing: [1, sy, sx], storage: pages.flatMap { $0[c] })
            }
        }
        return ImageVolume(channels: channels, header: ImageHeader(spacing: channels[0].spacing), isInteger: isInteger)
    }

    private static func sample(_ buf: UnsafeRawBufferPointer, _ offset: Int, bits: UInt16, format: UInt16) -> Float {
        let signed = format == UInt16(SAMPLEFORMAT_INT), float = format == UInt16(SAMPLEFORMAT_IEEEFP)
        switch bits {
        case 8: return signed ? Float(buf.loadUnaligned(fromByteOffset: offset, as: Int8.self)) : Float(buf[offset])
        case 16: return signed ? Float(buf.loadUnaligned(fromByteOffset: offset, as: Int16.self)) : Float(buf.loadUnaligned(fromByteOffset: offset, as: UInt16.self))
        default:
            if float { return buf.loadUnaligned(fromByteOffset: offset, as: Float.self) }
            return signed ? Float(buf.loadUnaligned(fromByteOffset: offset, as: Int32.self)) : Float(buf.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
        }
    }

    private static func readTiles(_ tif: OpaquePointer, into raw: inout [UInt8], width: Int, height: Int, pixelBytes: Int, path: String) throws {
        var tw: UInt32 = 0, th: UInt32 = 0
        _ = contour_tiff_get_u32(tif, UInt32(TIFFTAG_TILEWIDTH), &tw)
        _ = contour_tiff_get_u32(tif, UInt32(TIFFTAG_TILELENGTH), &th)
        let tileBytes = Int(TIFFTileSize64(tif))
        guard tw > 0, th > 0, let needed = ElementLimit.byteCount([Int(tw), Int(th)], bytesPerElement: pixelBytes),
              needed <= ElementLimit.maximum, tileBytes >= needed else {
            throw ImagingError("\(path): TIFF tiles of \(tw) × \(th) pixels (\(tileBytes) bytes each) are empty, too large or inconsistent")
        }
        var tile = [UInt8](repeating: 0, count: tileBytes)
        for ty in stride(from: 0, to: height, by: Int(th)) {
            for tx in stride(from: 0, to: width, by: Int(tw)) {
                let n = tile.withUnsafeMutableBytes { TIFFReadTile(tif, $0.baseAddress, UInt32(tx), UInt32(ty), 0, 0) }
                guard n >= 0 else { throw ImagingError("\(path): cannot read TIFF tile at (\(tx), \(ty)): \(lastError())") }
                for y in ty..<Swift.min(ty + Int(th), height) {
                    let count = (Swift.min(tx + Int(tw), width) - tx) * pixelBytes
                    let src = (y - ty) * Int(tw) * pixelBytes, dst = (y * width + tx) * pixelBytes
                    for b in 0..<count { raw[dst + b] = tile[src + b] }
                }
            }
        }
    }

    /// Writes one channel as 8/16-bit unsigned or 32-bit float samples; a 3D grid becomes pages.
    public enum SampleType: Sendable { case uint8, uint16, float32 }

    public static func write(_ grid: Grid<Float>, path: String, as type: SampleType) throws {
        contour_tiff_install_handlers()
        contour_tiff_clear_error()
        let tmp = "\(path).tmp-\(UInt32.random(in: 0...UInt32.max))"
        guard let tif = TIFFOpen(tmp, "w") else { throw ImagingError("\(path): cannot create TIFF: \(lastError())") }
        let pages = grid.rank == 3 ? grid.shape[0] : 1
        let h = grid.shape[grid.rank - 2], w = grid.shape[grid.rank - 1]
        let bits: UInt16 = type == .uint8 ? 8 : type == .uint16 ? 16 : 32
        var failed = false
        for p in 0..<pages where !failed {
            _ = contour_tiff_set_u32(tif, UInt32(TIFFTAG_IMAGEWIDTH), UInt32(w))
            _ = contour_tiff_set_u32(tif, UInt32(TIFFTAG_IMAGELENGTH), UInt32(h))
            _ = contour_tiff_set_u16(tif, UInt32(TIFFTAG_BITSPERSAMPLE), bits)
            _ = contour_tiff_set_u16(tif, UInt32(TIFFTAG_SAMPLESPERPIXEL), 1)
            _ = contour_tiff_set_u16(tif, UInt32(TIFFTAG_SAMPLEFORMAT), UInt16(type == .float32 ? SAMPLEFORMAT_IEEEFP : SAMPLEFORMAT_UINT))
            _ = contour_tiff_set_u16(tif, UInt32(TIFFTAG_PHOTOMETRIC), UInt16(PHOTOMETRIC_MINISBLACK))
            _ = contour_tiff_set_u16(tif, UInt32(TIFFTAG_PLANARCONFIG), UInt16(PLANARCONFIG_CONTIG))
            _ = contour_tiff_set_u16(tif, UInt32(TIFFTAG_COMPRESSION), UInt16(COMPRESSION_NONE))
            _ = contour_tiff_set_u32(tif, UInt32(TIFFTAG_ROWSPERSTRIP), UInt32(h))
            let plane = Array(grid.storage[(p * w * h)..<((p + 1) * w * h)])
            var bytes: [UInt8]
            switch type {
            case .uint8: bytes = plane.map { UInt8(clamping: Int($0.rounded())) }
            case .uint16: bytes = plane.map { UInt16(clamping: Int($0.rounded())) }.withUnsafeBytes { Array($0) }
            case .float32: bytes = plane.withUnsafeBytes { Array($0) }
            }
            let rowBytes = w * Int(bits) / 8
            for y in 0..<h where !failed {
                if bytes.withUnsafeMutableBytes({ TIFFWriteScanline(tif, $0.baseAddress! + y * rowBytes, UInt32(y), 0) }) != 1 { failed = true }
            }
            if TIFFWriteDirectory(tif) != 1 { failed = true }
        }
        TIFFClose(tif)
        if failed {
            FileSystem.remove(tmp)
            throw ImagingError("\(path): cannot write TIFF: \(lastError())")
        }
        try FileSystem.rename(tmp, to: path)
    }

    private static func lastError() -> String { String(cString: contour_tiff_last_error()) }
}
