import NeuralNet
import Torch

/// UNet++ (Zhou et al., 2018): nested, densely connected skip pathways. Node X(i, j) (depth i,
/// column j) convolves the concatenation of X(i, 0…j−1) and the upsampled X(i+1, j−1).
/// Deep supervision takes 1×1 heads on X(0, 1…L); otherwise the head on X(0, L) is the output.
public final class UNetPlusPlus: Module, SegmentationModel {
    public let spatialDims: Int, classes: Int, inChannels: Int, deepSupervision: Bool
    let depth: Int
    /// nodes[i][j] for j ≥ 1, flattened in creation order (state-dict friendly).
    let backbone: [ConvStage]
    let nested: [ConvStage]
    let ups: [any UnaryLayer]
    let heads: [any UnaryLayer]
    private var index: [[Int]] = []

    public init(spatialDims: Int, inChannels: Int, classes: Int, stages: Int = 5, baseWidth: Int = 32,
                maxWidth: Int? = nil, norm: NormKind = .instance, deepSupervision: Bool = false) throws {
        guard spatialDims == 2 || spatialDims == 3, stages >= 2 else { throw TorchError("UNet++: spatialDims 2 or 3, stages ≥ 2") }
        let w = Layers.widths(spatialDims, stages: stages, base: baseWidth, max: maxWidth)
        self.spatialDims = spatialDims
        self.classes = classes
        self.inChannels = inChannels
        self.deepSupervision = deepSupervision
        depth = stages - 1
        backbone = try (0..<stages).map { i in
            try ConvStage(spatialDims, i == 0 ? inChannels : w[i - 1], w[i], convs: 2, stride: i == 0 ? 1 : 2, norm: norm)
        }
        var nestedNodes: [ConvStage] = [], upLayers: [any UnaryLayer] = []
        var idx = [[Int]](repeating: [], count: stages)
        for j in 1...depth {
            for i in 0...(depth - j) {
                idx[i].append(nestedNodes.count)
                upLayers.append(try Layers.upConv(spatialDims, w[i + 1], w[i]))
                nestedNodes.append(try ConvStage(spatialDims, w[i] * (j + 1), w[i], convs: 2, stride: 1, norm: norm))
            }
        }
        nested = nestedNodes
        ups = upLayers
        heads = try (1...depth).map { _ in try Layers.conv(spatialDims, w[0], classes, kernel: 1) }
        index = idx
        super.init()
    }

    public var sizeDivisor: Int { 1 << depth }

    public func outputs(_ x: Tensor) throws -> [Tensor] {
        try checkInput(x, inChannels: inChannels)
        // grid[i][j] = X(i, j)
        var grid = [[Tensor]](repeating: [], count: depth + 1)
        var y = x
        for i in 0...depth {
            y = try backbone[i](y)
            grid[i].append(y)
        }
        for j in 1...depth {
            for i in 0...(depth - j) {
                let n = index[i][j - 1]
                let up = try ups[n](grid[i + 1][j - 1])
                grid[i].append(try nested[n](Tensor.cat(grid[i] + [up], dim: 1)))
            }
        }
        if deepSupervision {
            // Every X(0, j) is full resolution; the deepest column first matches UNet's convention.
            return try (1...depth).reversed().map { try heads[$0 - 1](grid[0][$0]) }
        }
        return [try heads[depth - 1](grid[0][depth])]
    }

    public func callAsFunction(_ x: Tensor) throws -> Tensor { try outputs(x)[0] }
}
