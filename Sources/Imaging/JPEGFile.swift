internal import CLibJPEG
import Geometry

/// JPEG through libjpeg-turbo's TurboJPEG API: gray files give one channel, colour files RGB.
public enum JPEGFile {
    public static func readImage(path: String) throws -> ImageVolume {
        let data = try FileSystem.read(path)
        guard let handle = tjInitDecompress() else { throw ImagingError("\(path): cannot start the JPEG decoder") }
        defer { tjDestroy(handle) }
        var width: Int32 = 0, height: Int32 = 0, subsampling: Int32 = 0, colorspace: Int32 = 0
        let header = data.withUnsafeBufferPointer {
            tjDecompressHeader3(handle, $0.baseAddress, UInt(data.count), &width, &height, &subsampling, &colorspace)
        }
        guard header == 0 else { throw ImagingError("\(path): not a readable JPEG: \(errorText(handle))") }
        let gray = colorspace == Int32(TJCS_GRAY.rawValue)
        let channels = gray ? 1 : 3
        if let problem = ElementLimit.problem([Int(height), Int(width), channels], source: path) { throw ImagingError(problem) }
        let n = Int(width) * Int(height)
        var pixels = [UInt8](repeating: 0, count: n * channels)
        let status = data.withUnsafeBufferPointer { src in
            pixels.withUnsafeMutableBufferPointer { dst in
                tjDecompress2(handle, src.baseAddress, UInt(data.count), dst.baseAddress, width, 0, height,
                              gray ? Int32(TJPF_GRAY.rawValue) : Int32(TJPF_RGB.rawValue), 0)
            }
        }
        // A truncated file decodes with a warning; treat any error as fatal for data integrity.
        guard status == 0 else { throw ImagingError("\(path): cannot decode JPEG: \(errorText(handle))") }
        var planes = [[Float]](repeating: [Float](repeating: 0, count: n), count: channels)
        for i in 0..<n { for c in 0..<channels { planes[c][i] = Float(pixels[i * channels + c]) } }
        let grids = try planes.map { try Grid(shape: [Int(height), Int(width)], storage: $0) }
        return ImageVolume(channels: grids, header: ImageHeader(spacing: [1, 1]), isInteger: true)
    }

    /// Writes 8-bit gray (one channel) or RGB (three channels) at `quality` (1–100).
    public static func write(_ channels: [Grid<UInt8>], path: String, quality: Int = 95) throws {
        guard channels.count == 1 || channels.count == 3, channels.allSatisfy({ $0.rank == 2 && $0.shape == channels[0].shape }) else {
            throw ImagingError("\(path): JPEG needs one or three 2D channels of one shape")
        }
        guard let handle = tjInitCompress() else { throw ImagingError("\(path): cannot start the JPEG encoder") }
        defer { tjDestroy(handle) }
        let h = channels[0].shape[0], w = channels[0].shape[1], c = channels.count
        var interleaved = [UInt8](repeating: 0, count: w * h * c)
        for i in 0..<(w * h) { for k in 0..<c { interleaved[i * c + k] = channels[k].storage[i] } }
        var out: UnsafeMutablePointer<UInt8>? = nil
        var size: UInt = 0
        let status = interleaved.withUnsafeBufferPointer {
            tjCompress2(handle, $0.baseAddress, Int32(w), 0, Int32(h), c == 1 ? Int32(TJPF_GRAY.rawValue) : Int32(TJPF_RGB.rawValue),
                        &out, &size, c == 1 ? Int32(TJSAMP_GRAY.rawValue) : Int32(TJSAMP_444.rawValue), Int32(quality), 0)
        }
        defer { if let out { tjFree(out) } }
        guard status == 0, let out else { throw ImagingError("\(path): cannot encode JPEG: \(errorText(handle))") }
        try FileSystem.writeAtomically(Array(UnsafeBufferPointer(start: out, count: Int(size))), to: path)
    }

    private static func errorText(_ handle: tjhandle) -> String { String(cString: tjGetErrorStr2(handle)) }
}
