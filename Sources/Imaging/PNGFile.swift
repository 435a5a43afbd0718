#if canImport(Glibc)
import Glibc
#endif
import CLibPNG
import Geometry

/// PNG through libpng's simplified API: 8/16-bit gray, gray+alpha, RGB, RGBA and palette files.
/// Gray files keep their exact values (masks, label maps); colour and palette files become RGB
/// channels (alpha is dropped).
public enum PNGFile {
    public static func readImage(path: String) throws -> ImageVolume {
        var image = contour_png_image()
        guard png_image_begin_read_from_file(&image, path) != 0 else {
            throw ImagingError("\(path): cannot read PNG: \(message(&image))")
        }
        defer { png_image_free(&image) }
        let format = image.format
        let colour = format & png_uint_32(PNG_FORMAT_FLAG_COLOR) != 0
        let sixteen = format & png_uint_32(PNG_FORMAT_FLAG_LINEAR) != 0
        let colormapped = format & png_uint_32(PNG_FORMAT_FLAG_COLORMAP) != 0
        let width = Int(image.width), height = Int(image.height)
        let n = width * height
        let channelCount = colour || colormapped ? 3 : 1
        try checkClaimedSize(width: width, height: height, channels: channelCount, path: path)
        // 16-bit files are "linear" to libpng and read unchanged; 8-bit ones stay 8-bit.
        image.format = sixteen
            ? (channelCount == 3 ? contour_png_format_rgb16 : contour_png_format_gray16)
            : (channelCount == 3 ? contour_png_format_rgb8 : contour_png_format_gray8)
        var planes: [[Float]] = []
        if sixteen {
            var buffer = [UInt16](repeating: 0, count: n * channelCount)
            let ok = buffer.withUnsafeMutableBytes {
                png_image_finish_read(&image, nil, $0.baseAddress, png_int_32(width * channelCount), nil)
            }
            guard ok != 0 else { throw ImagingError("\(path): cannot decode PNG: \(message(&image))") }
            planes = deinterleave(buffer, channels: channelCount, count: n)
        } else {
            var buffer = [UInt8](repeating: 0, count: n * channelCount)
            let ok = buffer.withUnsafeMutableBytes {
                png_image_finish_read(&image, nil, $0.baseAddress, png_int_32(width * channelCount), nil)
            }
            guard ok != 0 else { throw ImagingError("\(path): cannot decode PNG: \(message(&image))") }
            planes = deinterleave(buffer, channels: channelCount, count: n)
        }
        let channels = try planes.map { try Grid(shape: [height, width], storage: $0) }
        return ImageVolume(channels: channels, header: ImageHeader(spacing: [1, 1]), isInteger: true)
    }

    /// The header's size against the element limit and the file's size: each row is at least a
    /// filter byte plus one bit per pixel of deflate output, and deflate expands at most ~1032×.
    static func checkClaimedSize(width: Int, height: Int, channels: Int, path: String) throws {
        if let problem = ElementLimit.problem([height, width, channels], source: path) { throw ImagingError(problem) }
        var info = stat()
        guard stat(path, &info) == 0 else { throw ImagingError("\(path): cannot read the file's size") }
        let minimumRaw = height * (1 + (width + 7) / 8)
        guard minimumRaw <= Int(info.st_size) * 1032 + 65536 else {
            throw ImagingError("\(path): the PNG header claims \(width) × \(height) pixels, more than a \(info.st_size)-byte file can hold; "
                               + "the file is truncated or corrupt")
        }
    }

    /// Interleaved samples → one Float plane per channel (a hot loop: no per-element array checks).
    static func deinterleave<T: BinaryInteger>(_ buffer: [T], channels: Int, count n: Int) -> [[Float]] {
        buffer.withUnsafeBufferPointer { src in
            (0..<channels).map { c in
                [Float](unsafeUninitializedCapacity: n) { dst, initialized in
                    var j = c
                    for i in 0..<n {
                        dst[i] = Float(src[j])
                        j += channels
                    }
                    initialized = n
                }
            }
        }
    }

    /// A gray PNG as exact values.
    public static func read(path: String) throws -> Grid<UInt16> {
        let volume = try readImage(path: path)
        guard volume.channels.count == 1 else {
            throw GeometryError.format("\(path): colour or palette PNG; masks must be 8- or 16-bit grayscale")
        }
        return volume.channels[0].map { UInt16($0) }
    }

    /// Writes a 2D grid as a gray PNG, 8-bit when every value fits (or `sixteenBit` is false).
    public static func write(_ grid: Grid<UInt16>, path: String, sixteenBit: Bool? = nil) throws {
        guard grid.rank == 2 else { throw GeometryError.invalidShape("\(path): a PNG holds a 2D grid, got shape \(grid.shape)") }
        let wide = sixteenBit ?? (grid.storage.max() ?? 0 > 255)
        if !wide, let big = grid.storage.first(where: { $0 > 255 }) {
            throw GeometryError.invalidArgument("\(path): value \(big) does not fit an 8-bit PNG")
        }
        if wide {
            try write(bytes: grid.storage.withUnsafeBytes { Array($0) }, width: grid.shape[1], height: grid.shape[0],
                      format: contour_png_format_gray16, samplesPerRow: grid.shape[1], path: path)
        } else {
            try write(bytes: grid.storage.map { UInt8($0) }, width: grid.shape[1], height: grid.shape[0],
                      format: contour_png_format_gray8, samplesPerRow: grid.shape[1], path: path)
        }
    }

    /// Writes 8-bit RGB (interleaved) — for overlays and previews.
    public static func writeRGB(_ rgb: [UInt8], width: Int, height: Int, path: String) throws {
        guard rgb.count == width * height * 3 else {
            throw ImagingError("\(path): \(rgb.count) bytes for a \(width)×\(height) RGB image")
        }
        try write(bytes: rgb, width: width, height: height, format: contour_png_format_rgb8, samplesPerRow: width * 3, path: path)
    }

    /// Encodes 8-bit RGB to PNG bytes in memory (for reports that embed images).
    public static func encodeRGB(_ rgb: [UInt8], width: Int, height: Int) throws -> [UInt8] {
        var image = contour_png_image()
        image.width = png_uint_32(width)
        image.height = png_uint_32(height)
        image.format = contour_png_format_rgb8
        var size: png_alloc_size_t = 0
        guard rgb.withUnsafeBytes({ png_image_write_to_memory(&image, nil, &size, 0, $0.baseAddress, png_int_32(width * 3), nil) }) != 0 else {
            throw ImagingError("cannot encode PNG: \(message(&image))")
        }
        var out = [UInt8](repeating: 0, count: Int(size))
        let ok = out.withUnsafeMutableBytes { dst in
            rgb.withUnsafeBytes { png_image_write_to_memory(&image, dst.baseAddress, &size, 0, $0.baseAddress, png_int_32(width * 3), nil) }
        }
        guard ok != 0 else { throw ImagingError("cannot encode PNG: \(message(&image))") }
        return Array(out.prefix(Int(size)))
    }

    private static func write(bytes: [UInt8], width: Int, height: Int, format: png_uint_32, samplesPerRow: Int, path: String) throws {
        var image = contour_png_image()
        image.width = png_uint_32(width)
        image.height = png_uint_32(height)
        image.format = format
        let tmp = "\(path).tmp-\(UInt32.random(in: 0...UInt32.max))"
        let ok = bytes.withUnsafeBytes { png_image_write_to_file(&image, tmp, 0, $0.baseAddress, png_int_32(samplesPerRow), nil) }
        guard ok != 0 else {
            FileSystem.remove(tmp)
            throw ImagingError("\(path): cannot write PNG: \(message(&image))")
        }
        try FileSystem.rename(tmp, to: path)
    }

    private static func message(_ image: inout png_image) -> String {
        withUnsafeBytes(of: &image.message) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
    }
}
