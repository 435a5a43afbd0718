import Torch

/// Scales gradients in place so that their joint p-norm is at most `maxNorm`, as
/// `torch.nn.utils.clip_grad_norm_`; returns the norm before clipping (inf/NaN are reported).
@discardableResult
public func clipGradientNorm(_ parameters: [Tensor], maxNorm: Double, p: Double = 2) throws -> Double {
    let grads = parameters.compactMap(\.grad)
    guard !grads.isEmpty else { return 0 }
    return try withoutGradients {
        let norms = try grads.map { try $0.norm(p: p) }
        let total = try Tensor.stack(norms).norm(p: p)
        let coefficient = try (maxNorm / (total + 1e-6)).clamp(max: 1)
        for g in grads { try g.mulInPlace(try coefficient.to(g.device, dtype: g.dtype)) }
        return try total.item()
    }
}
