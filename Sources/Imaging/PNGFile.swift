import CLibPNG
import Geometry

/// Gray PNG files (8- or 16-bit) as `Grid<UInt16>`, through libpng's simplified API.
/// Masks and label maps keep their exact values; colour and palette files are rejected
/// because converting them to gray would change label values.
public enum PNGFile {
    public static func read(path: String) throws -> Grid<UInt16> {
        var image = contour_png_image()
        guard png_image_begin_read_from_file(&image, path) != 0 else {
            throw GeometryError.format("\(path): cannot read PNG: \(message(&image))")
        }
        defer { png_image_free(&image) }
        let format = image.format
        if format & png_uint_32(PNG_FORMAT_FLAG_COLOR) != 0 || format & png_uint_32(PNG_FORMAT_FLAG_COLORMAP) != 0 {
            throw GeometryError.format("\(path): colour or palette PNG; masks must be 8- or 16-bit grayscale")
        }
        let width = Int(image.width), height = Int(image.height)
        // A 16-bit file is "linear" to libpng and is read as is; an 8-bit one stays 8-bit.
        let sixteen = format & png_uint_32(PNG_FORMAT_FLAG_LINEAR) != 0
        image.format = sixteen ? contour_png_format_gray16 : contour_png_format_gray8
        var values = [UInt16](repeating: 0, count: width * height)
        if sixteen {
            let ok = values.withUnsafeMutableBytes { buf in
                png_image_finish_read(&image, nil, buf.baseAddress, png_int_32(width), nil)
            }
            guard ok != 0 else { throw GeometryError.format("\(path): cannot decode PNG: \(message(&image))") }
        } else {
            var bytes = [UInt8](repeating: 0, count: width * height)
            let ok = bytes.withUnsafeMutableBytes { buf in
                png_image_finish_read(&image, nil, buf.baseAddress, png_int_32(width), nil)
            }
            guard ok != 0 else { throw GeometryError.format("\(path): cannot decode PNG: \(message(&image))") }
            for i in 0..<bytes.count { values[i] = UInt16(bytes[i]) }
        }
        return try Grid(shape: [height, width], storage: values)
    }

    /// Writes a 2D grid as a gray PNG, 8-bit when every value fits (or `sixteenBit` is false).
    public static func write(_ grid: Grid<UInt16>, path: String, sixteenBit: Bool? = nil) throws {
        guard grid.rank == 2 else { throw GeometryError.invalidShape("\(path): a PNG holds a 2D grid, got shape \(grid.shape)") }
        let wide = sixteenBit ?? (grid.storage.max() ?? 0 > 255)
        if !wide, let big = grid.storage.first(where: { $0 > 255 }) {
            throw GeometryError.invalidArgument("\(path): value \(big) does not fit an 8-bit PNG")
        }
        var image = contour_png_image()
        image.width = png_uint_32(grid.shape[1])
        image.height = png_uint_32(grid.shape[0])
        image.format = wide ? contour_png_format_gray16 : contour_png_format_gray8
        let ok: Int32
        if wide {
            ok = grid.storage.withUnsafeBytes { buf in
                png_image_write_to_file(&image, path, 0, buf.baseAddress, png_int_32(grid.shape[1]), nil)
            }
        } else {
            let bytes = grid.storage.map { UInt8($0) }
            ok = bytes.withUnsafeBytes { buf in
                png_image_write_to_file(&image, path, 0, buf.baseAddress, png_int_32(grid.shape[1]), nil)
            }
        }
        guard ok != 0 else { throw GeometryError.format("\(path): cannot write PNG: \(message(&image))") }
    }

    private static func message(_ image: inout png_image) -> String {
        withUnsafeBytes(of: &image.message) { raw in
            let bytes = raw.prefix { $0 != 0 }
            return String(decoding: bytes, as: UTF8.self)
        }
    }
}
