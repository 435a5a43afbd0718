import CTorch

/// Reverse-mode differentiation through libtorch's autograd.
extension Tensor {
    public var requiresGrad: Bool { flag(ct_requires_grad, "requiresGrad") }
    public var isLeaf: Bool { flag(ct_is_leaf, "isLeaf") }

    /// Marks this (leaf) tensor as requiring gradients; returns self for chaining.
    @discardableResult
    public func requiringGrad(_ flag: Bool = true) throws -> Tensor {
        try run { ct_set_requires_grad($0, flag ? 1 : 0) }
        return self
    }

    /// Accumulates d self / d leaves into the leaves' `grad`. A non-scalar needs `gradient`.
    public func backward(gradient: Tensor? = nil, retainGraph: Bool = false, createGraph: Bool = false) throws {
        try withExtendedLifetime((handle, gradient?.handle)) {
            try check(ct_backward(handle.raw, gradient?.handle.raw, retainGraph ? 1 : 0, createGraph ? 1 : 0))
        }
    }

    /// The accumulated gradient; nil exactly when none has been computed (or it was cleared),
    /// never because reading it failed.
    public var grad: Tensor? {
        withExtendedLifetime(handle) {
            var out: OpaquePointer?
            if ct_grad(handle.raw, &out) != 0 { metadataFailure("grad") }
            return out.map { Tensor(owning: $0) }
        }
    }

    /// Sets (or with nil clears, like `zero_grad(set_to_none=True)`) the accumulated gradient.
    public func setGrad(_ gradient: Tensor?) throws {
        try withExtendedLifetime((handle, gradient?.handle)) { try check(ct_set_grad(handle.raw, gradient?.handle.raw)) }
    }

    /// The same data, cut from the autograd graph.
    public func detached() throws -> Tensor { try map { ct_detach($0, $1) } }
}

/// Gradients of the sum of `outputs` with respect to `inputs`, without touching `.grad`
/// (`torch.autograd.grad`). Used for per-objective gradients: pass `retainGraph: true` to take
/// the gradient of several objectives of one forward pass. Unused inputs give nil when
/// `allowUnused`, else an error.
public func gradients(of outputs: [Tensor], with inputs: [Tensor], gradOutputs: [Tensor]? = nil,
                      retainGraph: Bool = false, createGraph: Bool = false,
                      allowUnused: Bool = false) throws -> [Tensor?] {
    if let g = gradOutputs, g.count != outputs.count {
        throw TorchError("gradients: \(g.count) gradOutputs for \(outputs.count) outputs")
    }
    let keep = (outputs.map(\.handle), inputs.map(\.handle), gradOutputs?.map(\.handle))
    return try withExtendedLifetime(keep) {
        let o: [OpaquePointer?] = outputs.map { $0.handle.raw }
        let i: [OpaquePointer?] = inputs.map { $0.handle.raw }
        let g: [OpaquePointer?]? = gradOutputs?.map { $0.handle.raw }
        var outs = [OpaquePointer?](repeating: nil, count: inputs.count)
        let status: ct_status
        if let g {
            status = ct_autograd_grad(o, Int32(o.count), g, i, Int32(i.count), retainGraph ? 1 : 0, createGraph ? 1 : 0,
                                      allowUnused ? 1 : 0, &outs)
        } else {
            status = ct_autograd_grad(o, Int32(o.count), nil, i, Int32(i.count), retainGraph ? 1 : 0, createGraph ? 1 : 0,
                                      allowUnused ? 1 : 0, &outs)
        }
        try check(status)
        return outs.map { $0.map { Tensor(owning: $0) } }
    }
}

/// Convenience for one scalar objective.
public func gradients(of output: Tensor, with inputs: [Tensor], retainGraph: Bool = false,
                      createGraph: Bool = false, allowUnused: Bool = false) throws -> [Tensor?] {
    try gradients(of: [output], with: inputs, retainGraph: retainGraph, createGraph: createGraph, allowUnused: allowUnused)
}
