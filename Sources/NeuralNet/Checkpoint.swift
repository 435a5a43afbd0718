import Torch

/// What `load(from:)` found when matching a file's tensors to a module's state dict.
public struct LoadReport: Equatable, CustomStringConvertible {
    public var missing: [String] = []
    public var unexpected: [String] = []
    /// key: (file shape, module shape)
    public var misShaped: [String] = []

    public var isClean: Bool { missing.isEmpty && unexpected.isEmpty && misShaped.isEmpty }

    public var description: String {
        var parts: [String] = []
        if !missing.isEmpty { parts.append("missing keys: \(missing.joined(separator: ", "))") }
        if !unexpected.isEmpty { parts.append("unexpected keys: \(unexpected.joined(separator: ", "))") }
        if !misShaped.isEmpty { parts.append("mis-shaped: \(misShaped.joined(separator: "; "))") }
        return parts.isEmpty ? "all keys matched" : parts.joined(separator: "; ")
    }
}

extension Module {
    /// Writes the state dict as safetensors (readable by `safetensors.torch.load_file`), atomically.
    public func save(to path: String, metadata: [String: String] = [:]) throws {
        try validateStructure()  // a skipped container would silently drop weights from the file
        try Safetensors.save(stateDict(), metadata: metadata, to: path)
    }

    /// Copies tensors into this module's parameters and buffers in place (keeping device and identity).
    /// With `strict`, any missing, unexpected or mis-shaped key is an error naming them all and
    /// nothing is changed (a missing `num_batches_tracked` is accepted, as PyTorch does); otherwise matching keys load and the report lists the rest.
    @discardableResult
    public func loadStateDict(_ tensors: [String: Tensor], strict: Bool = true) throws -> LoadReport {
        try validateStructure()
        let own = stateDict()
        var report = LoadReport()
        var pairs: [(Tensor, Tensor)] = []
        let ownKeys = Set(own.map(\.name))
        for (key, target) in own {
            guard let source = tensors[key] else {
                // Files from PyTorch < 0.4.1 (torchvision's ImageNet ResNets among them) have no
                // batch-norm step counter; PyTorch accepts them and keeps the module's own.
                if !key.hasSuffix("num_batches_tracked") { report.missing.append(key) }
                continue
            }
            guard source.shape == target.shape else {
                report.misShaped.append("\(key): file \(source.shape) vs model \(target.shape)")
                continue
            }
            pairs.append((target, source))
        }
        report.unexpected = tensors.keys.filter { !ownKeys.contains($0) }.sorted()
        if strict && !report.isClean { throw NeuralNetError("checkpoint does not match the model: \(report)") }
        try withoutGradients {
            for (target, source) in pairs { try target.copyInPlace(from: source) }
        }
        return report
    }

    /// Loads a safetensors file written by `save(to:)` or by PyTorch.
    @discardableResult
    public func load(from path: String, strict: Bool = true) throws -> LoadReport {
        let file = try Safetensors.load(path)
        var dict: [String: Tensor] = [:]
        for (k, t) in file.tensors { dict[k] = t }
        do {
            return try loadStateDict(dict, strict: strict)
        } catch let e as NeuralNetError {
            throw NeuralNetError("\(path): \(e.description)")
        }
    }
}
