import Foundation
import Torch

/// Sliding-window inference as nnU-Net does it: tiles of the patch size at a relative step
/// (0.5), each weighted by a Gaussian importance map (σ = patch/8) so tile borders count less;
/// optional test-time mirroring; inputs smaller than the patch are padded and cropped back.
public struct SlidingWindow {
    public var patchSize: [Int]
    public var step: Double
    public var mirror: Bool

    public init(patchSize: [Int], step: Double = 0.5, mirror: Bool = false) throws {
        guard patchSize.allSatisfy({ $0 > 0 }) else { throw TrainingError("patch size must be positive, got \(patchSize)") }
        guard step > 0 && step <= 1 else { throw TrainingError("sliding-window step must be in (0, 1], got \(step)") }
        self.patchSize = patchSize
        self.step = step
        self.mirror = mirror
    }

    /// Tile origins along one axis (nnU-Net's `compute_steps_for_sliding_window`).
    static func origins(size: Int, patch: Int, step: Double) -> [Int] {
        guard size > patch else { return [0] }
        let target = Double(patch) * step
        let n = Int((Double(size - patch) / target).rounded(.up)) + 1
        let actual = Double(size - patch) / Double(n - 1)
        return (0..<n).map { Int((Double($0) * actual).rounded()) }
    }

    /// exp(−d²/2σ²) over the patch, σ = patch/8 per axis, peak 1, zeros raised to the smallest non-zero value.
    static func gaussian(_ patch: [Int]) throws -> Tensor {
        var axes: [[Double]] = []
        for p in patch {
            let sigma = Double(p) / 8, centre = Double(p - 1) / 2
            axes.append((0..<p).map { i in Foundation.exp(-((Double(i) - centre) * (Double(i) - centre)) / (2 * sigma * sigma)) })
        }
        var values: [Double] = [1]
        for axis in axes { values = values.flatMap { v in axis.map { v * $0 } } }
        let peak = values.max() ?? 1
        values = values.map { $0 / peak }
        let floor = values.filter { $0 > 0 }.min() ?? 1
        return try Tensor(values.map { Float(Swift.max($0, floor)) }, shape: patch)
    }

    /// Logits averaged over tiles, shape (1, classes, spatial…) of `image` (1, C, spatial…).
    public func logits(of image: Tensor, model: (Tensor) throws -> Tensor) throws -> Tensor {
        let spatial = Array(image.shape.dropFirst(2))
        guard spatial.count == patchSize.count else {
            throw TrainingError("image has \(spatial.count) spatial dims, patch size \(patchSize) has \(patchSize.count)")
        }
        // Pad up to the patch where the image is smaller (symmetrically), crop back at the end.
        var padded = image
        var lows = [Int](repeating: 0, count: spatial.count)
        if zip(spatial, patchSize).contains(where: { $0 < $1 }) {
            var pad: [Int] = []
            for axis in (0..<spatial.count).reversed() {
                let missing = Swift.max(patchSize[axis] - spatial[axis], 0)
                lows[axis] = missing / 2
                pad += [missing / 2, missing - missing / 2]
            }
            padded = try image.pad(pad)
        }
        let size = Array(padded.shape.dropFirst(2))
        let weight = try Self.gaussian(patchSize).to(image.device)
        var accumulator: Tensor?
        let norm = try Tensor.zeros(size, device: image.device)
        let starts = zip(size, patchSize).map { Self.origins(size: $0, patch: $1, step: step) }
        var index = [Int](repeating: 0, count: starts.count)
        try withoutGradients {
            while true {
                var tile = padded
                for (axis, i) in index.enumerated() { tile = try tile.narrow(dim: axis + 2, start: starts[axis][i], length: patchSize[axis]) }
                let out = try predict(tile.contiguous(), model)
                if accumulator == nil {
                    accumulator = try Tensor.zeros([1, out.shape[1]] + size, device: image.device)
                }
                var acc = accumulator!, n = norm
                for (axis, i) in index.enumerated() {
                    acc = try acc.narrow(dim: axis + 2, start: starts[axis][i], length: patchSize[axis])
                    n = try n.narrow(dim: axis, start: starts[axis][i], length: patchSize[axis])
                }
                try acc.addInPlace(out * weight)
                try n.addInPlace(weight)
                // Next tile (odometer over the axes).
                var axis = index.count - 1
                while axis >= 0 {
                    index[axis] += 1
                    if index[axis] < starts[axis].count { break }
                    index[axis] = 0
                    axis -= 1
                }
                if axis < 0 { break }
            }
        }
        var result = accumulator! / norm
        for axis in 0..<spatial.count where lows[axis] > 0 || size[axis] != spatial[axis] {
            result = try result.narrow(dim: axis + 2, start: lows[axis], length: spatial[axis])
        }
        return try result.contiguous()
    }

    /// The model's logits for one tile, averaged over all mirrorings when `mirror` is on.
    func predict(_ tile: Tensor, _ model: (Tensor) throws -> Tensor) throws -> Tensor {
        guard mirror else { return try model(tile) }
        let dims = Array(2..<tile.rank)
        var total = try model(tile)
        var count = 1.0
        for mask in 1..<(1 << dims.count) {
            let flips = dims.enumerated().filter { mask & (1 << $0.offset) != 0 }.map(\.element)
            total = total + (try model(try tile.flip(flips)).flip(flips))
            count += 1
        }
        return total / count
    }
}
