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

extension Module {
    /// Loads a weight file (safetensors or PyTorch `.pth`, told apart by content) by exact key.
    /// With `prefix`, the file is the state dict of the submodule whose keys start with it (file key
    /// `conv1.weight` → `encoder.conv1.weight`), and only that submodule's keys can be missing.
    /// A shape mismatch is always an error naming the key and both shapes, and nothing is loaded;
    /// with `strict`, so is any missing or unexpected key. Values are converted to each parameter's dtype.
    /// `rename` maps a file key the model lacks to another layout's key (`PretrainedKeyMapping`).
    @discardableResult
    public func loadWeights(from path: String, prefix: String = "", strict: Bool,
                            rename: ((String) -> String?)? = nil) throws -> LoadReport {
        try validateStructure()
        let file = try WeightFile.load(path)
        let own = stateDict().filter { $0.name.hasPrefix(prefix) }
        let ownByName = Dictionary(own.map { ($0.name, $0.tensor) }, uniquingKeysWith: { a, _ in a })
        var report = LoadReport()
        var source: [String: Tensor] = [:]
        for (k, t) in file.tensors {
            var key = prefix + k
            if ownByName[key] == nil, let r = rename?(k), ownByName[prefix + r] != nil { key = prefix + r }
            guard let target = ownByName[key] else { report.unexpected.append(k); continue }
            guard t.shape == target.shape else {
                let into = prefix.isEmpty ? "" : " (model key '\(key)')"
                throw NeuralNetError("\(path): '\(k)'\(into) has shape \(t.shape) in the file but the model expects \(target.shape)")
            }
            source[key] = t
        }
        report.missing = own.filter { source[$0.name] == nil }.map(\.name)
        if strict && !(report.missing.isEmpty && report.unexpected.isEmpty) {
            var parts: [String] = []
            if !report.missing.isEmpty {
                parts.append("missing keys: " + own.filter { source[$0.name] == nil }
                    .map { "\($0.name) (expected shape \($0.tensor.shape))" }.joined(separator: ", "))
            }
            if !report.unexpected.isEmpty { parts.append("unexpected keys: \(report.unexpected.joined(separator: ", "))") }
            throw NeuralNetError("\(path) does not match the model: \(parts.joined(separator: "; "))")
        }
        try withoutGradients {
            for (name, target) in own { if let s = source[name] { try target.copyInPlace(from: s) } }
        }
        return report
    }
}
