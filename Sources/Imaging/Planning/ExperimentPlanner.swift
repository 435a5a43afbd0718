#if canImport(Glibc)
import Glibc
#endif

/// nnU-Net v2's experiment planning (ExperimentPlanner) on a `DatasetFingerprint`, with Contour's
/// memory model: target spacing, patch and batch size, pooling and kernels, normalisation.
public struct ExperimentPlanner: Sendable {
    public var memoryBudgetGB = 8.0
    public var memoryModel = MemoryModel()
    public var anisotropyThreshold = 3.0
    public var minFeatureMapEdge = 4
    public var baseWidth = 32
    public var maxWidth3D = 320
    public var maxWidth2D = 512
    public var convsPerStage = 2
    /// The batch a patch must fit at before the batch size is chosen (nnU-Net's reference batches).
    public var referenceBatch3D = 2
    public var referenceBatch2D = 12
    public var minBatch = 2
    /// A batch covers at most this fraction of the dataset's voxels (nnU-Net: 5 %).
    public var maxDatasetFraction = 0.05
    /// `3d_lowres` is planned when the full-resolution patch holds less than this fraction of the median case.
    public var lowresThreshold = 0.25
    public var lowresSpacingStep = 1.03
    public var labelResampling = Resampling.LabelMode.linear

    public init(memoryBudgetGB: Double = 8) { self.memoryBudgetGB = memoryBudgetGB }

    var budgetBytes: Double { memoryBudgetGB * 1_073_741_824 }

    /// Median spacing per axis; the coarsest axis uses its 10th percentile instead when both its
    /// spacing is > threshold × the finest other axis and its median size × threshold < the other sizes
    /// (never finer than the other axes).
    public func targetSpacing(_ f: DatasetFingerprint) -> [Double] {
        let dim = f.rank
        func column(_ values: [[Double]], _ a: Int) -> [Double] { values.map { $0[a] }.sorted() }
        let spacings = f.cases.map(\.spacing), sizes = f.cases.map { $0.shapeAfterCrop.map(Double.init) }
        var target = (0..<dim).map { IntensityStatistics.percentile(column(spacings, $0), 50) }
        guard dim == 3 else { return target }
        let size = (0..<dim).map { IntensityStatistics.percentile(column(sizes, $0), 50) }
        let worst = target.indices.max { target[$0] < target[$1] }!
        let others = (0..<dim).filter { $0 != worst }
        let otherSpacing = others.map { target[$0] }.max()!, otherSize = others.map { size[$0] }.min()!
        if target[worst] > anisotropyThreshold * otherSpacing && size[worst] * anisotropyThreshold < otherSize {
            var s = IntensityStatistics.percentile(column(spacings, worst), 10)
            if s < otherSpacing { s = Swift.max(otherSpacing, s) + 1e-5 }
            target[worst] = s
        }
        return target
    }

    public func plan(_ f: DatasetFingerprint, dataset: String, labels: [Int]) throws -> ExperimentPlans {
        let dim = f.rank
        let spacing = targetSpacing(f)
        let newShapes = f.cases.map { Resampling.newShape($0.shapeAfterCrop, spacing: $0.spacing, target: spacing) }
        let median = (0..<dim).map { a in IntensityStatistics.percentile(newShapes.map { Double($0[a]) }.sorted(), 50) }
        let datasetVoxels = median.reduce(1, *) * Double(f.cases.count)
        let classes = labels.count
        var configurations: [String: ConfigurationPlan] = [:]
        if dim == 3 {
            let full = try configuration("3d_fullres", axes: [0, 1, 2], spacing: spacing, median: median,
                                         datasetVoxels: datasetVoxels, channels: f.channelNames.count, classes: classes)
            configurations["3d_fullres"] = full
            var patchVoxels = Double(full.patchSize.reduce(1, *)), medianVoxels = median.reduce(1, *)
            var lowres: ConfigurationPlan?
            var lowSpacing = spacing
            while patchVoxels / medianVoxels < lowresThreshold {
                // Coarsen the finest axes until within 2× of the coarsest, then all axes together.
                let coarsest = lowSpacing.max()!
                if lowSpacing.contains(where: { coarsest / $0 > 2 }) {
                    lowSpacing = lowSpacing.map { coarsest / $0 > 2 ? $0 * lowresSpacingStep : $0 }
                } else {
                    lowSpacing = lowSpacing.map { $0 * lowresSpacingStep }
                }
                let lowMedian = (0..<3).map { spacing[$0] / lowSpacing[$0] * median[$0] }
                medianVoxels = lowMedian.reduce(1, *)
                let plan = try configuration("3d_lowres", axes: [0, 1, 2], spacing: lowSpacing,
                                             median: lowMedian.map { $0.rounded(.toNearestOrEven) },
                                             datasetVoxels: medianVoxels * Double(f.cases.count),
                                             channels: f.channelNames.count, classes: classes)
                patchVoxels = Double(plan.patchSize.reduce(1, *))
                lowres = plan
            }
            if let lowres { configurations["3d_lowres"] = lowres }
        }
        // 2D: the two axes other than the coarsest (nnU-Net transposes the coarsest axis first).
        let coarsest = dim == 3 ? spacing.indices.max { spacing[$0] < spacing[$1] }! : -1
        let inPlane = (0..<dim).filter { $0 != coarsest }
        configurations["2d"] = try configuration("2d", axes: inPlane, spacing: inPlane.map { spacing[$0] },
                                                 median: inPlane.map { median[$0] }, datasetVoxels: datasetVoxels,
                                                 channels: f.channelNames.count, classes: classes)
        let useMask = f.medianRelativeSizeAfterCrop < 0.75
        let normalization = zip(f.channelNames, f.foregroundIntensities).map {
            ChannelNormalization(channel: $0, statistics: $1, useNonZeroMask: useMask)
        }
        let originalSpacing = (0..<dim).map { a in IntensityStatistics.percentile(f.cases.map { $0.spacing[a] }.sorted(), 50) }
        let originalShape = (0..<dim).map { a in IntensityStatistics.percentile(f.cases.map { Double($0.shapeAfterCrop[a]) }.sorted(), 50) }
        return ExperimentPlans(dataset: dataset, memoryBudgetGB: memoryBudgetGB, memoryModel: memoryModel,
                               anisotropyThreshold: anisotropyThreshold, labels: labels, normalization: normalization,
                               originalMedianSpacing: originalSpacing, originalMedianShape: originalShape,
                               configurations: configurations, fingerprint: f)
    }

    /// nnU-Net's `get_plans_for_configuration`: a patch with the aspect ratio of the spacing and the
    /// volume of 256³ (2048² in 2D), clipped to the median shape, then shrunk along the axis largest
    /// relative to the median shape until the reference batch fits the budget.
    func configuration(_ name: String, axes: [Int], spacing: [Double], median: [Double], datasetVoxels: Double,
                       channels: Int, classes: Int) throws -> ConfigurationPlan {
        let dim = spacing.count
        let inverse = spacing.map { 1 / $0 }
        let volume = dim == 3 ? 256.0 * 256 * 256 : 2048.0 * 2048
        let scale = pow(volume / inverse.reduce(1, *), 1 / Double(dim))
        var patch = zip(inverse, median).map { Swift.min(($0 * scale).rounded(.toNearestOrEven), $1) }
        let maxWidth = dim == 3 ? maxWidth3D : maxWidth2D
        let reference = dim == 3 ? referenceBatch3D : referenceBatch2D
        func network(_ t: NetworkTopology) -> MemoryModel.Network {
            MemoryModel.Network(topology: t, inChannels: channels, classes: classes,
                                widths: MemoryModel.widths(stages: t.stages, base: baseWidth, maxWidth: maxWidth),
                                convsPerStage: convsPerStage)
        }
        var topology = NetworkTopology(spacing: spacing, patchSize: patch, minEdge: minFeatureMapEdge)
        while topology.stages < 2 || memoryModel.bytes(network(topology), batch: reference) > budgetBytes {
            let current = topology.patchSize
            // Axes that can lose a divisor's worth and keep ≥ minEdge voxels, largest relative to the median first.
            let candidates = (0..<dim).filter { current[$0] - topology.divisor[$0] >= minFeatureMapEdge }
            guard topology.stages >= 2, let axis = candidates.max(by: { Double(current[$0]) / median[$0] < Double(current[$1]) / median[$1] }) else {
                let need = memoryModel.bytes(network(topology), batch: reference) / 1_073_741_824
                throw ImagingError("--memory-budget \(memoryBudgetGB) GB is too small for any \(name) patch: the smallest tried, "
                                   + "\(current.map(String.init).joined(separator: "×")), needs \((need * 1000).rounded() / 1000) GB at batch \(reference)"
                                   + (topology.stages < 2 ? " and is too small to pool" : ""))
            }
            var shrunk = current.map(Double.init)
            shrunk[axis] -= Double(topology.divisor[axis])
            let step = NetworkTopology(spacing: spacing, patchSize: shrunk, minEdge: minFeatureMapEdge).divisor[axis]
            patch = current.map(Double.init)
            patch[axis] -= Double(step)
            topology = NetworkTopology(spacing: spacing, patchSize: patch, minEdge: minFeatureMapEdge)
        }
        let net = network(topology)
        let perSample = memoryModel.bytesPerFeature * memoryModel.featureElements(net)
        var batch = Int(((budgetBytes - memoryModel.bytesPerParameter * memoryModel.parameters(net)) / perSample).rounded(.down))
        let cap = Int((datasetVoxels * maxDatasetFraction / Double(topology.patchSize.reduce(1, *))).rounded(.toNearestOrEven))
        batch = Swift.max(Swift.min(batch, cap), minBatch)
        return ConfigurationPlan(axes: axes, spacing: spacing, medianShape: median, patchSize: topology.patchSize, batchSize: batch,
                                 stages: topology.stages, poolsPerAxis: topology.poolsPerAxis, poolKernelSizes: topology.poolKernelSizes,
                                 convKernelSizes: topology.convKernelSizes, baseWidth: baseWidth, maxWidth: maxWidth,
                                 convsPerStage: convsPerStage,
                                 estimatedMemoryGB: memoryModel.bytes(net, batch: batch) / 1_073_741_824, labelResampling: labelResampling)
    }
}
