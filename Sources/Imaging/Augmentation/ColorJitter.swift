#if canImport(Glibc)
import Glibc
#endif
import Geometry

/// torchvision's ColorJitter and RandomGrayscale for images in [0, 1] (use `rgb` normalisation):
/// brightness, contrast, saturation factors from [1 − x, 1 + x], hue shift from [−h, h] (in
/// turns), applied in a random order and clamped to [0, 1]. Saturation, hue and grayscale
/// need three channels (RGB) and are skipped otherwise; brightness/contrast work on any.
public struct ColorJitter: Sendable, Equatable {
    public var probability: Double
    public var brightness: Double
    public var contrast: Double
    public var saturation: Double
    public var hue: Double
    public var grayscaleProbability: Double

    public init(probability: Double = 1, brightness: Double = 0, contrast: Double = 0, saturation: Double = 0,
                hue: Double = 0, grayscaleProbability: Double = 0) {
        self.probability = probability
        self.brightness = brightness
        self.contrast = contrast
        self.saturation = saturation
        self.hue = hue
        self.grayscaleProbability = grayscaleProbability
    }

    public func apply(to sample: inout Sample, using rng: inout SeededGenerator) {
        let jitter = Double.random(in: 0..<1, using: &rng) < probability
        var order = [0, 1, 2, 3]
        order.shuffle(using: &rng)
        let factors = [brightness, contrast, saturation].map { x in Float(Double.random(in: Swift.max(0, 1 - x)...(1 + x), using: &rng)) }
        let shift = Float(Double.random(in: -hue...hue, using: &rng))
        let gray = Double.random(in: 0..<1, using: &rng) < grayscaleProbability
        let rgb = sample.image.count == 3
        if jitter {
            for op in order {
                switch op {
                case 0 where brightness > 0:
                    for c in sample.image.indices { Normalization.map(&sample.image[c].storage) { Self.clamp($0 * factors[0]) } }
                case 1 where contrast > 0:
                    let mean = Float(rgb ? Self.luminance(sample.image).reduce(0, +) / Float(sample.image[0].count)
                                        : Float(Normalization.meanStd(sample.image[0].storage).0))
                    let f = factors[1]
                    for c in sample.image.indices { Normalization.map(&sample.image[c].storage) { Self.clamp(f * $0 + (1 - f) * mean) } }
                case 2 where saturation > 0 && rgb:
                    let l = Self.luminance(sample.image), f = factors[2]
                    for c in 0..<3 {
                        sample.image[c].storage.withUnsafeMutableBufferPointer { p in
                            for i in p.indices { p[i] = Self.clamp(f * p[i] + (1 - f) * l[i]) }
                        }
                    }
                case 3 where hue > 0 && rgb:
                    Self.shiftHue(&sample.image, by: shift)
                default: break
                }
            }
        }
        if gray && rgb {
            let l = Self.luminance(sample.image)
            for c in 0..<3 { sample.image[c].storage = l }
        }
    }

    @inline(__always) static func clamp(_ v: Float) -> Float { Swift.min(1, Swift.max(0, v)) }

    /// ITU-R 601 luma, as torchvision's rgb_to_grayscale.
    static func luminance(_ c: [Grid<Float>]) -> [Float] {
        var l = [Float](repeating: 0, count: c[0].count)
        c[0].storage.withUnsafeBufferPointer { r in
            c[1].storage.withUnsafeBufferPointer { g in
                c[2].storage.withUnsafeBufferPointer { b in
                    l.withUnsafeMutableBufferPointer { l in
                        for i in l.indices { l[i] = 0.299 * r[i] + 0.587 * g[i] + 0.114 * b[i] }
                    }
                }
            }
        }
        return l
    }

    /// RGB → HSV, h += shift (mod 1), → RGB.
    static func shiftHue(_ c: inout [Grid<Float>], by shift: Float) {
        let n = c[0].count
        var r = c[0].storage, g = c[1].storage, b = c[2].storage
        r.withUnsafeMutableBufferPointer { r in
            g.withUnsafeMutableBufferPointer { g in
                b.withUnsafeMutableBufferPointer { b in
                    for i in 0..<n {
                        let (h, s, v) = rgbToHSV(r[i], g[i], b[i])
                        var hh = h + shift
                        hh -= hh.rounded(.down)
                        (r[i], g[i], b[i]) = hsvToRGB(hh, s, v)
                    }
                }
            }
        }
        c[0].storage = r; c[1].storage = g; c[2].storage = b
    }

    @inline(__always) static func rgbToHSV(_ r: Float, _ g: Float, _ b: Float) -> (Float, Float, Float) {
        let mx = Swift.max(r, g, b), mn = Swift.min(r, g, b), d = mx - mn
        guard d > 0 else { return (0, 0, mx) }
        var h: Float
        if mx == r { h = (g - b) / d } else if mx == g { h = 2 + (b - r) / d } else { h = 4 + (r - g) / d }
        h /= 6
        if h < 0 { h += 1 }
        return (h, mx > 0 ? d / mx : 0, mx)
    }

    @inline(__always) static func hsvToRGB(_ h: Float, _ s: Float, _ v: Float) -> (Float, Float, Float) {
        let h6 = h * 6, i = Int(h6.rounded(.down)) % 6, f = h6 - h6.rounded(.down)
        let p = v * (1 - s), q = v * (1 - s * f), t = v * (1 - s * (1 - f))
        switch i {
        case 0: return (v, t, p)
        case 1: return (q, v, p)
        case 2: return (p, v, t)
        case 3: return (p, q, v)
        case 4: return (t, p, v)
        default: return (v, p, q)
        }
    }
}
