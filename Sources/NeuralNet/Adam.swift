import Foundation
import Torch

/// Adam (`torch.optim.Adam`, L2 weight decay added to the gradient) and, with `decoupled`,
/// AdamW (`torch.optim.AdamW`, weight decay applied to the weights). Same arithmetic as
/// PyTorch's implementation, in the same order, with its multi-tensor (`foreach`) kernels.
public class Adam: Optimizer {
    public var groups: [ParameterGroup]
    public let beta1: Double, beta2: Double, eps: Double, amsgrad: Bool
    let decoupled: Bool
    var state = OptimizerState()

    public convenience init(_ groups: [ParameterGroup], betas: (Double, Double) = (0.9, 0.999), eps: Double = 1e-8,
                            amsgrad: Bool = false) throws {
        try self.init(groups, betas: betas, eps: eps, amsgrad: amsgrad, decoupled: false)
    }

    init(_ groups: [ParameterGroup], betas: (Double, Double), eps: Double, amsgrad: Bool, decoupled: Bool) throws {
        guard (0..<1).contains(betas.0), (0..<1).contains(betas.1) else {
            throw TorchError("Adam: betas must be in [0, 1), got \(betas)")
        }
        guard eps >= 0 else { throw TorchError("Adam: eps must be ≥ 0, got \(eps)") }
        self.groups = groups
        beta1 = betas.0
        beta2 = betas.1
        self.eps = eps
        self.amsgrad = amsgrad
        self.decoupled = decoupled
        try validateGroups(decoupled ? "AdamW" : "Adam")
    }

    public convenience init(_ parameters: [Tensor], learningRate: Double = 1e-3, betas: (Double, Double) = (0.9, 0.999),
                            eps: Double = 1e-8, weightDecay: Double = 0, amsgrad: Bool = false) throws {
        try self.init([ParameterGroup(parameters, learningRate: learningRate, weightDecay: weightDecay)],
                      betas: betas, eps: eps, amsgrad: amsgrad, decoupled: false)
    }

    public func step() throws {
        try withoutGradients {
            for (gi, group) in groups.enumerated() {
                var params: [Tensor] = [], grads: [Tensor] = [], avgs: [Tensor] = [], sqs: [Tensor] = [], maxima: [Tensor] = []
                var steps: [Double] = []
                for (pi, p) in group.parameters.enumerated() {
                    guard let grad = p.grad else { continue }
                    let stepKey = OptimizerState.key(gi, pi, "step")
                    let avgKey = OptimizerState.key(gi, pi, "exp_avg"), sqKey = OptimizerState.key(gi, pi, "exp_avg_sq")
                    let maxKey = OptimizerState.key(gi, pi, "max_exp_avg_sq")
                    if state.buffers[stepKey] == nil {
                        state.buffers[stepKey] = try Tensor.zeros([], dtype: .float64)
                        state.buffers[avgKey] = try Tensor.zeros(like: p)
                        state.buffers[sqKey] = try Tensor.zeros(like: p)
                        if amsgrad { state.buffers[maxKey] = try Tensor.zeros(like: p) }
                    }
                    let stepTensor = state.buffers[stepKey]!
                    try stepTensor.addInPlace(1)
                    steps.append(try stepTensor.item())
                    params.append(p)
                    grads.append(grad)
                    avgs.append(state.buffers[avgKey]!)
                    sqs.append(state.buffers[sqKey]!)
                    if amsgrad { maxima.append(state.buffers[maxKey]!) }
                }
                try MultiTensorAdam.step(parameters: params, gradients: grads, expAvgs: avgs, expAvgSqs: sqs,
                                         maxExpAvgSqs: amsgrad ? maxima : nil, steps: steps, learningRate: group.learningRate,
                                         betas: (beta1, beta2), eps: eps, weightDecay: group.weightDecay, decoupled: decoupled)
            }
        }
    }

    public func stateTensors() throws -> [(name: String, tensor: Tensor)] { state.tensors() }

    public func loadStateTensors(_ saved: [String: Tensor]) throws {
        try state.load(saved, groups: groups, fields: ["step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq"],
                       optimizer: decoupled ? "AdamW" : "Adam")
    }
}

/// AdamW: Adam with decoupled weight decay (default 0.01, as in PyTorch).
public final class AdamW: Adam {
    public init(_ groups: [ParameterGroup], betas: (Double, Double) = (0.9, 0.999), eps: Double = 1e-8,
                amsgrad: Bool = false) throws {
        try super.init(groups, betas: betas, eps: eps, amsgrad: amsgrad, decoupled: true)
    }

    public convenience init(_ parameters: [Tensor], learningRate: Double = 1e-3, betas: (Double, Double) = (0.9, 0.999),
                            eps: Double = 1e-8, weightDecay: Double = 0.01, amsgrad: Bool = false) throws {
        try self.init([ParameterGroup(parameters, learningRate: learningRate, weightDecay: weightDecay)],
                      betas: betas, eps: eps, amsgrad: amsgrad)
    }
}
