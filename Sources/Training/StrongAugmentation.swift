import Foundation
import Torch

/// ConDSeg's stage-1 strong augmentation on a (B, C, H, W) batch tensor in [0, 1] (METHODS
/// §4.6): colour jitter (brightness, contrast, saturation factors in [1 − 0.3, 1 + 0.3], hue
/// shift in [−0.1, 0.1], applied in a random order), random grayscale (p 0.5) and a Gaussian
/// blur with σ ∈ [0.1, 3] — torchvision's tensor formulas. As published, one parameter set is
/// drawn per batch and the blur kernel is 7 tall and 1 wide; `perSample` draws per image and
/// `isotropicBlur` blurs 7×7. Draws come from libtorch's default generator, which checkpoints
/// save, so a resumed run draws what an uninterrupted one would.
public struct StrongAugmentation: Sendable, Equatable {
    public var brightness = 0.3, contrast = 0.3, saturation = 0.3, hue = 0.1
    public var grayscaleProbability = 0.5
    public var sigma: ClosedRange<Double> = 0.1...3
    public var blurSize = 7
    public var isotropicBlur = false
    public var perSample = false

    public init() {}

    /// One draw: the jitter order (0 brightness, 1 contrast, 2 saturation, 3 hue), the factors,
    /// whether to gray, and the blur σ.
    public struct Parameters: Sendable, Equatable {
        public var order: [Int]
        public var brightness: Double, contrast: Double, saturation: Double, hue: Double
        public var grayscale: Bool
        public var sigma: Double
        public init(order: [Int], brightness: Double, contrast: Double, saturation: Double, hue: Double, grayscale: Bool, sigma: Double) {
            self.order = order
            self.brightness = brightness
            self.contrast = contrast
            self.saturation = saturation
            self.hue = hue
            self.grayscale = grayscale
            self.sigma = sigma
        }
    }

    /// Draws one parameter set from libtorch's default generator.
    public func draw() throws -> Parameters {
        let u = try Tensor.rand([10], dtype: .float64).doubles()
        func within(_ x: Double, _ lo: Double, _ hi: Double) -> Double { lo + (hi - lo) * x }
        return Parameters(order: (0..<4).sorted { u[$0] < u[$1] },
                          brightness: within(u[4], Swift.max(0, 1 - brightness), 1 + brightness),
                          contrast: within(u[5], Swift.max(0, 1 - contrast), 1 + contrast),
                          saturation: within(u[6], Swift.max(0, 1 - saturation), 1 + saturation),
                          hue: within(u[7], -hue, hue), grayscale: u[8] < grayscaleProbability,
                          sigma: within(u[9], sigma.lowerBound, sigma.upperBound))
    }

    /// The augmented batch, with one draw per batch (or per image with `perSample`).
    public func callAsFunction(_ x: Tensor) throws -> Tensor {
        try Self.checkShape(x)
        guard perSample else { return try apply(x, try draw()) }
        return try Tensor.cat(try (0..<x.shape[0]).map { try apply(x.narrow(dim: 0, start: $0, length: 1), try draw()) })
    }

    /// `x` augmented with the given parameters.
    public func apply(_ x: Tensor, _ p: Parameters) throws -> Tensor {
        try Self.checkShape(x)
        var y = x
        for op in p.order {
            switch op {
            case 0: y = try Self.adjustBrightness(y, p.brightness)
            case 1: y = try Self.adjustContrast(y, p.contrast)
            case 2: y = try Self.adjustSaturation(y, p.saturation)
            default: y = try Self.adjustHue(y, p.hue)
            }
        }
        if p.grayscale { y = try Self.grayscale(y).expand(y.shape) }
        return try Self.gaussianBlur(y, size: blurSize, sigma: p.sigma, isotropic: isotropicBlur)
    }

    static func checkShape(_ x: Tensor) throws {
        guard x.rank == 4, x.shape[1] == 1 || x.shape[1] == 3 else {
            throw TrainingError("strong augmentation works on 2D batches (B, C, H, W) with 1 or 3 channels, got \(x.shape)")
        }
    }

    // MARK: torchvision's tensor formulas (images in [0, 1])

    static func blend(_ a: Tensor, _ b: Tensor, _ ratio: Double) throws -> Tensor {
        try (a * ratio).adding(b * (1 - ratio)).clamp(min: 0, max: 1)
    }

    /// 0.2989 R + 0.587 G + 0.114 B, (B, 1, H, W); a one-channel image is its own gray.
    public static func grayscale(_ x: Tensor) throws -> Tensor {
        guard x.shape[1] == 3 else { return x }
        let r = try x.narrow(dim: 1, start: 0, length: 1), g = try x.narrow(dim: 1, start: 1, length: 1)
        let b = try x.narrow(dim: 1, start: 2, length: 1)
        return try (r * 0.2989).adding(g * 0.587).adding(b * 0.114)
    }

    public static func adjustBrightness(_ x: Tensor, _ f: Double) throws -> Tensor { try (x * f).clamp(min: 0, max: 1) }

    /// Blend with the per-image mean of the grayscale image.
    public static func adjustContrast(_ x: Tensor, _ f: Double) throws -> Tensor {
        try blend(x, try grayscale(x).mean(dims: [1, 2, 3], keepDim: true), f)
    }

    public static func adjustSaturation(_ x: Tensor, _ f: Double) throws -> Tensor {
        guard x.shape[1] == 3 else { return x }
        return try blend(x, try grayscale(x), f)
    }

    /// Hue rotation through HSV (torchvision's `_rgb2hsv` / `_hsv2rgb`).
    public static func adjustHue(_ x: Tensor, _ shift: Double) throws -> Tensor {
        guard x.shape[1] == 3 else { return x }
        let r = try x.select(dim: 1, index: 0), g = try x.select(dim: 1, index: 1), b = try x.select(dim: 1, index: 2)
        let maxc = try x.max(dims: [1]), minc = try x.min(dims: [1])
        let eqc = try maxc.eq(minc)
        let cr = try maxc.subtracting(minc)
        let ones = try Tensor.ones(like: maxc)
        let s = try cr.dividing(try Tensor.where(eqc, ones, maxc))
        let crDivisor = try Tensor.where(eqc, ones, cr)
        let rc = try maxc.subtracting(r).dividing(crDivisor), gc = try maxc.subtracting(g).dividing(crDivisor)
        let bc = try maxc.subtracting(b).dividing(crDivisor)
        let isR = try maxc.eq(r), isG = try maxc.eq(g)
        let hr = try isR.to(x.dtype) * bc.subtracting(gc)
        let hg = try isG.logicalAnd(try isR.logicalNot()).to(x.dtype) * (2 + rc.subtracting(bc))
        let hb = try isG.logicalNot().logicalAnd(try isR.logicalNot()).to(x.dtype) * (4 + gc.subtracting(rc))
        let h = try (hr.adding(hg).adding(hb) / 6 + 1).remainder(ones)
        let hue = try (h + shift).remainder(ones)
        return try hsvToRGB(hue, s, maxc)
    }

    static func hsvToRGB(_ h: Tensor, _ s: Tensor, _ v: Tensor) throws -> Tensor {
        let i = try (h * 6).floor()
        let f = try (h * 6).subtracting(i)
        let p = try (v * (1 - s)).clamp(min: 0, max: 1)
        let q = try (v * (1 - s * f)).clamp(min: 0, max: 1)
        let t = try (v * (1 - s * (1 - f))).clamp(min: 0, max: 1)
        let sector = try i.remainder(try Tensor.full([], 6, dtype: i.dtype, device: i.device))
        // One-hot of the sector over a new dim 1, then pick each channel's source per sector.
        let mask = try Tensor.stack(try (0..<6).map { try sector.eq(Double($0)).to(h.dtype) }, dim: 1)
        func pick(_ sources: [Tensor]) throws -> Tensor { try (mask * Tensor.stack(sources, dim: 1)).sum(dims: [1]) }
        return try Tensor.stack([try pick([v, q, p, p, t, v]), try pick([t, v, v, q, p, p]), try pick([p, p, t, v, v, q])], dim: 1)
    }

    /// torchvision's `gaussian_blur`: kernel 1 × `size` (vertical) or `size` × `size`, reflect padding.
    public static func gaussianBlur(_ x: Tensor, size: Int, sigma: Double, isotropic: Bool) throws -> Tensor {
        let half = Double(size - 1) / 2
        let xs = (0..<size).map { -half + Double($0) * (size > 1 ? 2 * half / Double(size - 1) : 0) }
        let pdf = xs.map { exp(-0.5 * ($0 / sigma) * ($0 / sigma)) }
        let total = pdf.reduce(0, +)
        let k = try Tensor(pdf.map { $0 / total }, shape: [size]).to(x.device, dtype: x.dtype)
        let c = x.shape[1], pad = size / 2
        let column = try k.reshape([size, 1])
        let kernel = isotropic ? try column.matmul(try k.reshape([1, size])) : column
        let weight = try kernel.reshape([1, 1] + kernel.shape).expand([c, 1] + kernel.shape)
        let padded = try x.pad(isotropic ? [pad, pad, pad, pad] : [0, 0, pad, pad], mode: .reflect)
        return try padded.conv(weight: weight, groups: c)
    }
}
