import CTorch

/// An Adam/AdamW step over many parameters in a few multi-tensor kernels, as PyTorch's default
/// `foreach` Adam: the same arithmetic per tensor, without ~8 kernel launches per parameter.
public enum MultiTensorAdam {
    /// `steps[i]` is parameter i's step count after this step; `maxExpAvgSqs` only with amsgrad.
    public static func step(parameters: [Tensor], gradients: [Tensor], expAvgs: [Tensor], expAvgSqs: [Tensor],
                            maxExpAvgSqs: [Tensor]?, steps: [Double], learningRate: Double, betas: (Double, Double),
                            eps: Double, weightDecay: Double, decoupled: Bool) throws {
        let n = parameters.count
        guard [gradients.count, expAvgs.count, expAvgSqs.count, steps.count].allSatisfy({ $0 == n }),
              maxExpAvgSqs.map({ $0.count == n }) ?? true else {
            throw TorchError("Adam step: \(n) parameters but \(gradients.count) gradients, \(expAvgs.count)/\(expAvgSqs.count) moments, \(steps.count) steps")
        }
        let lists = [parameters, gradients, expAvgs, expAvgSqs, maxExpAvgSqs ?? []].map { $0.map(\.handle) }
        try withExtendedLifetime(lists) {
            let raw: [[OpaquePointer?]] = lists.map { $0.map(\.raw) }
            try check(ct_adam_step(raw[0], raw[1], raw[2], raw[3], maxExpAvgSqs == nil ? nil : raw[4], steps, Int32(n),
                                   learningRate, betas.0, betas.1, eps, weightDecay, decoupled ? 1 : 0))
        }
    }
}
