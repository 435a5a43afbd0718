#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The size a file's header may claim for one array, checked before anything is allocated for it:
/// a corrupt or hostile header (10¹² voxels in a 300-byte file) is an error naming the file and
/// the claim, never an allocation that takes the machine down.
public enum ElementLimit {
    /// The most elements one array read from a file may hold: 2³¹ (8 GiB as Float), or
    /// `CONTOUR_MAX_ELEMENTS` when set (the fuzz targets lower it to keep each run small).
    public static let maximum: Int = {
        if let raw = getenv("CONTOUR_MAX_ELEMENTS"), let v = Int(String(cString: raw)), v > 0 { return v }
        return 1 << 31
    }()

    /// The product of `shape`, or nil when a dimension is negative or the product overflows `Int`.
    public static func product(_ shape: [Int]) -> Int? {
        var n = 1
        for d in shape {
            guard d >= 0 else { return nil }
            let (p, overflow) = n.multipliedReportingOverflow(by: d)
            guard !overflow else { return nil }
            n = p
        }
        return n
    }

    /// nil when `shape` is within `maximum`; otherwise the reason, naming `source` and the claimed size.
    public static func problem(_ shape: [Int], source: String) -> String? {
        guard let n = product(shape) else {
            return "\(source): the header claims shape \(shape), whose element count is negative or overflows; the file is corrupt"
        }
        guard n <= maximum else {
            return "\(source): the header claims shape \(shape) = \(n) elements, more than the \(maximum) an array read from a file may hold "
                + "(CONTOUR_MAX_ELEMENTS raises the limit); the file is corrupt or not what it claims"
        }
        return nil
    }

    /// The element count of `shape` times `bytesPerElement`, or nil when it overflows.
    public static func byteCount(_ shape: [Int], bytesPerElement: Int) -> Int? {
        guard let n = product(shape) else { return nil }
        let (b, overflow) = n.multipliedReportingOverflow(by: bytesPerElement)
        return overflow ? nil : b
    }
}
