import Torch

/// A set of parameters sharing hyper-parameters (ConDSeg trains its encoder at a lower rate).
public struct ParameterGroup {
    public var parameters: [Tensor]
    /// The rate before any schedule is applied.
    public var baseLearningRate: Double
    /// The rate used by the next `step()`; schedules set it.
    public var learningRate: Double
    public var weightDecay: Double

    public init(_ parameters: [Tensor], learningRate: Double, weightDecay: Double = 0) {
        self.parameters = parameters
        baseLearningRate = learningRate
        self.learningRate = learningRate
        self.weightDecay = weightDecay
    }
}

/// Updates parameters from their `.grad`. State is per parameter and can be saved and restored.
public protocol Optimizer: AnyObject {
    var groups: [ParameterGroup] { get set }
    /// One update using the gradients currently in `.grad` (parameters without a gradient are skipped).
    func step() throws
    /// The optimiser's state as named tensors (step counts and moment buffers), for checkpoints.
    func stateTensors() throws -> [(name: String, tensor: Tensor)]
    func loadStateTensors(_ state: [String: Tensor]) throws
}

extension Optimizer {
    /// Clears gradients (`set_to_none`).
    public func zeroGrad() throws {
        for g in groups { for p in g.parameters { try p.setGrad(nil) } }
    }

    /// Sets every group's rate to its base rate × `factor` (what a schedule computes).
    public func scaleLearningRate(by factor: Double) {
        for i in groups.indices { groups[i].learningRate = groups[i].baseLearningRate * factor }
    }

    func validateGroups(_ name: String) throws {
        for (i, g) in groups.enumerated() {
            guard g.learningRate >= 0, g.learningRate.isFinite else {
                throw TorchError("\(name): group \(i) learning rate must be ≥ 0 and finite, got \(g.learningRate)")
            }
            guard g.weightDecay >= 0 else { throw TorchError("\(name): group \(i) weight decay must be ≥ 0, got \(g.weightDecay)") }
        }
    }
}

/// Per-parameter state keyed "group.param.field"; shared by the optimisers' save/load.
struct OptimizerState {
    var buffers: [String: Tensor] = [:]

    static func key(_ g: Int, _ p: Int, _ field: String) -> String { "\(g).\(p).\(field)" }

    func tensors() -> [(name: String, tensor: Tensor)] {
        buffers.sorted { $0.key.localizedStandardLess($1.key) }.map { ($0.key, $0.value) }
    }

    /// Copies saved buffers whose shapes match the current parameters.
    mutating func load(_ state: [String: Tensor], groups: [ParameterGroup], fields: [String], optimizer: String) throws {
        var loaded: [String: Tensor] = [:]
        for (key, value) in state {
            let parts = key.split(separator: ".")
            guard parts.count == 3, let g = Int(parts[0]), let p = Int(parts[1]), fields.contains(String(parts[2])) else {
                throw TorchError("\(optimizer) state: unexpected entry '\(key)'")
            }
            guard g < groups.count, p < groups[g].parameters.count else {
                throw TorchError("\(optimizer) state: entry '\(key)' refers to a parameter that does not exist")
            }
            let param = groups[g].parameters[p]
            if parts[2] != "step" && value.shape != param.shape {
                throw TorchError("\(optimizer) state: '\(key)' has shape \(value.shape), parameter has \(param.shape)")
            }
            loaded[key] = try value.to(param.device, dtype: parts[2] == "step" ? .float64 : param.dtype, copy: true)
        }
        buffers = loaded
    }
}

extension String {
    /// "0.10.x" after "0.9.x": numeric-aware ordering for state keys.
    func localizedStandardLess(_ other: String) -> Bool {
        let a = split(separator: "."), b = other.split(separator: ".")
        for (x, y) in zip(a, b) where x != y {
            if let i = Int(x), let j = Int(y) { return i < j }
            return x < y
        }
        return a.count < b.count
    }
}
