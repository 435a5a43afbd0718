import Geometry

/// Landmark localisation errors (METHODS §7): radial errors in mm, MRE ± sd and SDR.
public struct LandmarkErrors: Sendable, Equatable {
    /// One error per landmark, in the spacing's units (mm).
    public var radialErrors: [Double]

    public static let defaultRadii: [Double] = [2, 2.5, 3, 4]

    /// Points are voxel indices in axis order; `spacing` turns index offsets into mm.
    public init(predicted: [[Double]], truth: [[Double]], spacing: [Double]) throws {
        guard predicted.count == truth.count else {
            throw GeometryError.invalidArgument("\(predicted.count) predicted landmarks for \(truth.count) true ones")
        }
        radialErrors = try zip(predicted, truth).enumerated().map { n, pair in
            let (p, t) = pair
            guard p.count == spacing.count, t.count == spacing.count else {
                throw GeometryError.invalidArgument(
                    "landmark \(n) has \(p.count)/\(t.count) coordinates; spacing has \(spacing.count)")
            }
            var s = 0.0
            for a in 0..<spacing.count { let d = (p[a] - t[a]) * spacing[a]; s += d * d }
            return s.squareRoot()
        }
    }

    public init(radialErrors: [Double]) { self.radialErrors = radialErrors }

    /// Mean radial error over the valid (non-NaN) errors.
    public var meanRadialError: Double { Summary(radialErrors).mean }
    /// Population standard deviation of the radial errors.
    public var standardDeviation: Double { Summary(radialErrors).std }

    /// Success detection rate: percentage of valid errors ≤ `radius`.
    public func successDetectionRate(within radius: Double) -> Double {
        let valid = radialErrors.filter { !$0.isNaN }
        guard !valid.isEmpty else { return .nan }
        return 100 * Double(valid.filter { $0 <= radius }.count) / Double(valid.count)
    }

    public func successDetectionRates(radii: [Double] = defaultRadii) -> [Double] {
        radii.map { successDetectionRate(within: $0) }
    }
}
