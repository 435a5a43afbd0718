import Torch

/// Stochastic gradient descent with momentum, dampening, Nesterov and L2 weight decay, the
/// update of `torch.optim.SGD` (nnU-Net: lr 0.01, momentum 0.99, Nesterov).
public final class SGD: Optimizer {
    public var groups: [ParameterGroup]
    public let momentum: Double, dampening: Double, nesterov: Bool
    var state = OptimizerState()

    public init(_ groups: [ParameterGroup], momentum: Double = 0, dampening: Double = 0, nesterov: Bool = false) throws {
        guard momentum >= 0 else { throw TorchError("SGD: momentum must be ≥ 0, got \(momentum)") }
        guard !nesterov || (momentum > 0 && dampening == 0) else {
            throw TorchError("SGD: Nesterov momentum requires momentum > 0 and dampening = 0")
        }
        self.groups = groups
        self.momentum = momentum
        self.dampening = dampening
        self.nesterov = nesterov
        try validateGroups("SGD")
    }

    public convenience init(_ parameters: [Tensor], learningRate: Double, momentum: Double = 0, dampening: Double = 0,
                            nesterov: Bool = false, weightDecay: Double = 0) throws {
        try self.init([ParameterGroup(parameters, learningRate: learningRate, weightDecay: weightDecay)],
                      momentum: momentum, dampening: dampening, nesterov: nesterov)
    }

    public func step() throws {
        try withoutGradients {
            for (gi, group) in groups.enumerated() {
                for (pi, p) in group.parameters.enumerated() {
                    guard var d = p.grad else { continue }
                    if group.weightDecay != 0 { d = try d.adding(p * group.weightDecay) }
                    if momentum != 0 {
                        let key = OptimizerState.key(gi, pi, "momentum_buffer")
                        let buf: Tensor
                        if let existing = state.buffers[key] {
                            buf = existing
                            try buf.mulInPlace(momentum)
                            try buf.addInPlace(d, alpha: 1 - dampening)
                        } else {
                            buf = try d.clone()
                            state.buffers[key] = buf
                        }
                        d = nesterov ? try d.adding(buf * momentum) : buf
                    }
                    try p.addInPlace(d, alpha: -group.learningRate)
                }
            }
        }
    }

    public func stateTensors() throws -> [(name: String, tensor: Tensor)] { state.tensors() }

    public func loadStateTensors(_ saved: [String: Tensor]) throws {
        try state.load(saved, groups: groups, fields: ["momentum_buffer"], optimizer: "SGD")
    }
}
