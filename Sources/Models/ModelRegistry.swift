import NeuralNet
import Torch

/// What a model is built for: the dataset's input channels, classes (background included) and landmarks.
public struct ModelContext: Sendable, Equatable {
    public var inChannels: Int
    public var classes: Int
    public var landmarks: Int
    public init(inChannels: Int, classes: Int, landmarks: Int = 0) {
        self.inChannels = inChannels
        self.classes = classes
        self.landmarks = landmarks
    }
}

/// Models by name with typed options (timm-style); `contour models` lists them.
public enum ModelRegistry {
    public struct Entry: Sendable {
        public let name: String
        public let summary: String
        let make: @Sendable (Options, ModelContext) throws -> any SegmentationModel
    }

    static func common(_ o: Options, defaultStages: Int) throws -> (stages: Int, base: Int, maxWidth: Int?, norm: NormKind, ds: Bool) {
        let stages = try o.int("stages", default: defaultStages, requirement: "an integer from 2 to 8") { (2...8).contains($0) }
        let base = try o.int("baseWidth", default: 32, requirement: "a positive integer") { $0 > 0 }
        let maxWidth = o.has("maxWidth") ? try o.int("maxWidth", default: 0, requirement: "a positive integer") { $0 > 0 } : nil
        let norm = NormKind(rawValue: try o.string("norm", default: "instance", allowed: NormKind.allCases.map(\.rawValue)))!
        let ds = try o.bool("deepSupervision", default: false)
        return (stages, base, maxWidth, norm, ds)
    }

    static func plainUNet(spatialDims: Int, _ o: Options, _ m: ModelContext) throws -> any SegmentationModel {
        if spatialDims == 2 && o.has("encoder") {
            // segmentation_models_pytorch's Unet on a torchvision ResNet: its own fixed layout.
            let encoder = ResNetDepth(rawValue: try o.string("encoder", default: "resnet34", allowed: ResNetDepth.allCases.map(\.rawValue)))!
            let fixed = ["stages", "baseWidth", "maxWidth", "norm", "convsPerStage", "deepSupervision"].filter(o.has)
            guard fixed.isEmpty else {
                throw NeuralNetError("\(o.subject(fixed[0])) does not apply with 'encoder' (the ResNet U-Net has a fixed layout); remove it")
            }
            try o.finish()
            return try ResNetUNet(encoder, inChannels: m.inChannels, classes: m.classes)
        }
        let c = try common(o, defaultStages: 5)
        let convs = try o.int("convsPerStage", default: 2, requirement: "1 to 4") { (1...4).contains($0) }
        // A plan's per-stage pooling and kernels (contour data plan); they fix the number of stages.
        let pools = try o.optionalIntLists("poolKernelSizes", length: spatialDims)
        let kernels = try o.optionalIntLists("convKernelSizes", length: spatialDims)
        if let pools, pools.count != c.stages, o.has("stages") {
            throw NeuralNetError("\(o.subject("poolKernelSizes")) has \(pools.count) stages but \(o.subject("stages")) is \(c.stages); give one of them")
        }
        if let kernels, kernels.count != (pools?.count ?? c.stages) {
            throw NeuralNetError("\(o.subject("convKernelSizes")) needs one entry per stage (\(pools?.count ?? c.stages)), got \(kernels.count)")
        }
        try o.finish()
        return try UNet(spatialDims: spatialDims, inChannels: m.inChannels, classes: m.classes, stages: pools?.count ?? c.stages, baseWidth: c.base,
                        maxWidth: c.maxWidth, norm: c.norm, convsPerStage: convs, deepSupervision: c.ds,
                        poolKernelSizes: pools, convKernelSizes: kernels)
    }

    /// Segmentation plus one heatmap per landmark, shared encoder, a decoder per task.
    static func multiTaskUNet(spatialDims: Int, _ o: Options, _ m: ModelContext) throws -> any SegmentationModel {
        let c = try common(o, defaultStages: 5)
        let convs = try o.int("convsPerStage", default: 2, requirement: "1 to 4") { (1...4).contains($0) }
        try o.finish()
        guard m.landmarks > 0 else {
            throw NeuralNetError("model '\(o.owner)' has a heatmap head per landmark, but the dataset declares no landmarks (dataset.json \"landmarks\")")
        }
        return try MultiTaskUNet(spatialDims: spatialDims, inChannels: m.inChannels, classes: m.classes,
                                 tasks: [HeadSpec(name: Heads.heatmaps, channels: m.landmarks, kind: .heatmap)],
                                 stages: c.stages, baseWidth: c.base, maxWidth: c.maxWidth, norm: c.norm, convsPerStage: convs,
                                 deepSupervision: c.ds)
    }

    /// BaBLoss's mtnet (§5.2 reconstruction): residual encoder, a segmentation and a heatmap decoder.
    static func resUNetMT(spatialDims: Int, _ o: Options, _ m: ModelContext) throws -> any SegmentationModel {
        let base = try o.int("baseWidth", default: 32, requirement: "a positive integer") { $0 > 0 }
        let blocks = try o.int("blocks", default: 3, requirement: "1 to 8") { (1...8).contains($0) }
        let norm = NormKind(rawValue: try o.string("norm", default: "batch", allowed: NormKind.allCases.map(\.rawValue)))!
        try o.finish()
        guard m.landmarks > 0 else {
            throw NeuralNetError("model '\(o.owner)' has a heatmap head per landmark, but the dataset declares no landmarks (dataset.json \"landmarks\")")
        }
        return try ResUNetMT(spatialDims: spatialDims, inChannels: m.inChannels, classes: m.classes,
                             tasks: [HeadSpec(name: Heads.heatmaps, channels: m.landmarks, kind: .heatmap)],
                             baseWidth: base, blocks: blocks, norm: norm)
    }

    /// ConDSeg's options: `encoder` (resnet50|resnet34|resnet18) and `size` (the square side
    /// the official pipeline resizes to, a multiple of 16); a 3-channel, binary dataset.
    static func conDSegSettings(_ o: Options, _ m: ModelContext) throws -> (encoder: ResNetDepth, size: Int) {
        let encoder = ResNetDepth(rawValue: try o.string("encoder", default: "resnet50", allowed: ResNetDepth.allCases.map(\.rawValue)))!
        let size = try o.int("size", default: 256, requirement: "a positive multiple of 16") { $0 > 0 && $0 % 16 == 0 }
        try o.finish()
        guard m.inChannels == 3 else {
            throw NeuralNetError("model '\(o.owner)' has a 3-channel ResNet encoder (BGR images in the official code), but the dataset has "
                + "\(m.inChannels) channel(s); give the dataset three channels (e.g. repeat a grey channel three times)")
        }
        guard m.classes <= 2 else {
            throw NeuralNetError("model '\(o.owner)' segments one foreground label (one sigmoid channel), but the dataset has \(m.classes) classes")
        }
        return (encoder, size)
    }

    static let builtIns: [Entry] = [
        Entry(name: "unet2d", summary: "nnU-Net-style 2D U-Net; stages (5), baseWidth (32), maxWidth (512), norm (instance|batch|group), convsPerStage (2), deepSupervision; or encoder (resnet18|resnet34|resnet50): SMP-style U-Net on a torchvision ResNet") {
            try plainUNet(spatialDims: 2, $0, $1)
        },
        Entry(name: "unet3d", summary: "nnU-Net-style 3D U-Net; stages (5), baseWidth (32), maxWidth (320), norm, convsPerStage (2), deepSupervision, poolKernelSizes/convKernelSizes (per stage and axis, from a plan)") {
            try plainUNet(spatialDims: 3, $0, $1)
        },
        Entry(name: "unet2d-mt", summary: "2D U-Net, shared encoder, two decoders: segmentation + heatmaps (one per landmark); options as unet2d") {
            try multiTaskUNet(spatialDims: 2, $0, $1)
        },
        Entry(name: "unet3d-mt", summary: "3D U-Net, shared encoder, two decoders: segmentation + heatmaps (one per landmark); options as unet3d") {
            try multiTaskUNet(spatialDims: 3, $0, $1)
        },
        Entry(name: "resunet2d-mt", summary: "BaBLoss's mtnet in 2D [reconstruction]: residual U-Net encoder, segmentation + heatmap decoders, ReLU-headed raw outputs; baseWidth (32), blocks (3), norm (batch)") {
            try resUNetMT(spatialDims: 2, $0, $1)
        },
        Entry(name: "resunet3d-mt", summary: "BaBLoss's mtnet [reconstruction]: 3D residual U-Net encoder (c, 3 blocks/stage), segmentation + heatmap decoders, ReLU-headed raw outputs; baseWidth (32), blocks (3), norm (batch)") {
            try resUNetMT(spatialDims: 3, $0, $1)
        },
        Entry(name: "attention-unet", summary: "U-Net with additive attention gates on the skips (2D or 3D: spatialDims); stages, baseWidth, maxWidth, norm, deepSupervision") { o, m in
            let dims = try o.int("spatialDims", default: 2, requirement: "2 or 3") { $0 == 2 || $0 == 3 }
            let c = try common(o, defaultStages: 5)
            try o.finish()
            return try UNet(spatialDims: dims, inChannels: m.inChannels, classes: m.classes, stages: c.stages, baseWidth: c.base,
                            maxWidth: c.maxWidth, norm: c.norm, deepSupervision: c.ds, attention: true)
        },
        Entry(name: "unet++", summary: "UNet++ with nested dense skips (2D or 3D: spatialDims); stages, baseWidth, maxWidth, norm, deepSupervision") { o, m in
            let dims = try o.int("spatialDims", default: 2, requirement: "2 or 3") { $0 == 2 || $0 == 3 }
            let c = try common(o, defaultStages: 5)
            try o.finish()
            return try UNetPlusPlus(spatialDims: dims, inChannels: m.inChannels, classes: m.classes, stages: c.stages, baseWidth: c.base,
                                    maxWidth: c.maxWidth, norm: c.norm, deepSupervision: c.ds)
        },
        Entry(name: "condseg", summary: "ConDSeg (binary, 3-channel): ResNet encoder, SID, CDFA, SA-decoder; heads segmentation, foreground, background, uncertainty; encoder (resnet50|resnet34|resnet18), size (256), sid (true), cdfa (true): false gives the paper's ablations") { o, m in
            // The paper's ablations: sid false = no decoupling/auxiliary heads, cdfa false = plain fusion (ConDSeg's doc).
            let sid = try o.bool("sid", default: true), cdfa = try o.bool("cdfa", default: true)
            let s = try conDSegSettings(o, m)
            return try ConDSeg(encoder: s.encoder, size: s.size, sid: sid, cdfa: cdfa)
        },
        Entry(name: "condseg-stage1", summary: "ConDSeg's stage-1 (consistency reinforcement) network: ResNet encoder + multi-scale 1×1 head; encoder (resnet50|resnet34|resnet18), size (256)") { o, m in
            let s = try conDSegSettings(o, m)
            return try ConDSegStage1(encoder: s.encoder, size: s.size)
        },
    ]

    public static var names: [String] { entries.map(\.name) }

    /// Builds `name` with `options`; unknown names list the valid ones, unknown options name themselves.
    public static func make(_ name: String, options: Options, context: ModelContext) throws -> any SegmentationModel {
        guard let entry = entries.first(where: { $0.name == name }) else {
            throw NeuralNetError("unknown model '\(name)'; available: \(names.joined(separator: ", "))")
        }
        let model = try entry.make(options, context)
        try model.validateStructure()
        return model
    }

    public static func make(_ name: String, options: Options, inChannels: Int, classes: Int) throws -> any SegmentationModel {
        try make(name, options: options, context: ModelContext(inChannels: inChannels, classes: classes))
    }

    /// Names matching a shell-style pattern (`*` and `?`), as timm's `list_models`.
    public static func list(matching pattern: String = "*") -> [Entry] {
        entries.filter { wildcard(pattern, matches: $0.name) }
    }

    public static func wildcard(_ pattern: String, matches text: String) -> Bool {
        let p = Array(pattern), t = Array(text)
        var memo = [[Bool?]](repeating: [Bool?](repeating: nil, count: t.count + 1), count: p.count + 1)
        func go(_ i: Int, _ j: Int) -> Bool {
            if let v = memo[i][j] { return v }
            let r: Bool
            if i == p.count { r = j == t.count }
            else if p[i] == "*" { r = go(i + 1, j) || (j < t.count && go(i, j + 1)) }
            else { r = j < t.count && (p[i] == "?" || p[i] == t[j]) && go(i + 1, j + 1) }
            memo[i][j] = r
            return r
        }
        return go(0, 0)
    }
}

// Open storage: a package depending on Contour adds models that configurations name like the built-ins.
extension ModelRegistry {
    static let store = RegistryStore(builtIns, kind: "model") { $0.name }

    /// Built-ins first, then registered models in registration order.
    public static var entries: [Entry] { store.entries }

    /// Makes `name` available to `make`, `list` and configurations (`model: {name: …, options: …}`).
    /// `make` should call `options.finish()` once it has read its options, as the built-ins do.
    /// A name that exists is an error unless `replace` is true.
    public static func register(name: String, summary: String, replace: Bool = false,
                                make: @escaping @Sendable (Options, ModelContext) throws -> any SegmentationModel) throws {
        if let problem = store.add(Entry(name: name, summary: summary, make: make), replace: replace) {
            throw NeuralNetError(problem)
        }
    }
}
