import Foundation
import Torch

/// A neural-network building block, in the manner of `torch.nn.Module`.
///
/// Parameters (stored `Tensor` properties), buffers (`@Buffer` properties) and sub-modules
/// (stored `Module` properties, arrays of modules, `[String: Module]` / `[String: Tensor]`
/// dictionaries, optionals of either) are found by reflection. Their state-dict keys are the
/// property names in snake_case joined by dots — what the same PyTorch model's `state_dict()`
/// uses — so `downBlocks[1].conv.runningMean` is `down_blocks.1.conv.running_mean`, and
/// `heads["seg"]` is `heads.seg` (dictionary entries in sorted key order, like `nn.ModuleDict`
/// keys them). `@Key("name")` overrides a name.
///
/// The reflection runs once per instance and is cached. A module that reassigns a stored
/// `Tensor`/`Module` property (or mutates a container of them) after it was first used must call
/// `invalidateStructure()`; `let` properties never need it, and NeuralNet's layers do it in
/// their setters. Modules or tensors inside containers the reflection cannot key (a `Set`, a
/// tuple, a dictionary with non-`String` keys, a struct or non-module class) are reported by
/// `validateStructure()`, which checkpoints run; the non-throwing accessors skip them.
open class Module {
    /// Training mode (dropout active, batch-norm batch statistics); set by `train(_:)`.
    public private(set) var training = true

    // Module's own stored properties are skipped by the reflection (see `buildStructure`).
    private var cachedStructure: Structure?
    private let structureLock = NSLock()
    /// How many times this instance was reflected (a test hook for the cache).
    internal private(set) var structureBuildCount = 0

    public init() {}

    // MARK: Reflection

    private enum Entry {
        case parameter(String, Tensor)
        case buffer(String, Tensor)
        case child(String, Module)
    }

    /// One instance's reflected stored properties, and what it could not read.
    private struct Structure {
        var entries: [Entry] = []
        /// "property 'name': what is wrong", for `validateStructure()`.
        var problems: [String] = []
    }

    private func structure() -> Structure {
        structureLock.lock()
        defer { structureLock.unlock() }
        if let cached = cachedStructure { return cached }
        let built = buildStructure()
        cachedStructure = built
        structureBuildCount += 1
        return built
    }

    /// Forgets the cached reflection, so the next query reflects again. Call it after reassigning
    /// a stored `Tensor` or `Module` property (or changing a container of them) of a module that
    /// has already been used; `let` properties never need it.
    public func invalidateStructure() {
        structureLock.lock()
        cachedStructure = nil
        structureLock.unlock()
    }

    /// Throws if this module or a descendant stores modules or tensors where the reflection cannot
    /// key them (they would be missing from `parameters()` and checkpoints), naming the module and
    /// property. Also rejects dictionary keys containing "." (they would break state-dict keys).
    public func validateStructure() throws {
        var problems: [String] = []
        for (name, module) in namedModules() {
            let path = name.isEmpty ? "\(type(of: module))" : "\(type(of: module)) at '\(name)'"
            problems += module.structure().problems.map { "\(path): \($0)" }
        }
        if !problems.isEmpty {
            throw NeuralNetError("unsupported module structure: " + problems.joined(separator: "; "))
        }
    }

    private func buildStructure() -> Structure {
        var mirrors: [Mirror] = []
        var m: Mirror? = Mirror(reflecting: self)
        while let current = m {
            // Module's own bookkeeping (training flag, cache, lock) is not part of the model.
            if current.subjectType == Module.self { break }
            mirrors.append(current)
            m = current.superclassMirror
        }
        var out = Structure()
        // Base-class properties come first, as PyTorch registers them in __init__ order.
        for mirror in mirrors.reversed() {
            for child in mirror.children {
                guard var label = child.label else { continue }
                let property = label
                var value = child.value
                var isBuffer = false
                if let wrapped = value as? ReflectedProperty {
                    if label.hasPrefix("_") { label.removeFirst() }
                    value = wrapped.reflectedValue
                    isBuffer = wrapped.isBuffer
                    label = wrapped.key ?? Self.stateKey(label)
                } else {
                    if label.hasPrefix("$") { continue }
                    label = Self.stateKey(label)
                }
                Self.collect(value, key: label, property: property, isBuffer: isBuffer, into: &out)
            }
        }
        return out
    }

    private static func collect(_ value: Any, key: String, property: String, isBuffer: Bool, into out: inout Structure) {
        if let t = value as? Tensor {
            out.entries.append(isBuffer ? .buffer(key, t) : .parameter(key, t))
            return
        }
        if let m = value as? Module {
            out.entries.append(.child(key, m))
            return
        }
        let mirror = Mirror(reflecting: value)
        switch mirror.displayStyle {
        case .collection?:
            // Arrays are homogeneous: one element without modules or tensors stands for all.
            guard let first = mirror.children.first, holdsModulesOrTensors(first.value) else { return }
            for (i, element) in mirror.children.enumerated() {
                collect(element.value, key: "\(key).\(i)", property: property, isBuffer: isBuffer, into: &out)
            }
        case .optional?:
            if let some = mirror.children.first {
                collect(some.value, key: key, property: property, isBuffer: isBuffer, into: &out)
            }
        case .dictionary?:
            guard let first = mirror.children.first, holdsModulesOrTensors(first.value) else { return }
            var pairs: [(key: String, value: Any)] = []
            for element in mirror.children {
                let pair = Array(Mirror(reflecting: element.value).children)
                guard pair.count == 2 else { continue }
                guard let k = pair[0].value as? String else {
                    out.problems.append("property '\(property)' is a dictionary keyed by \(type(of: pair[0].value)), "
                        + "not String; use [String: Module] or [String: Tensor]")
                    return
                }
                if k.contains(".") {
                    out.problems.append("property '\(property)' has dictionary key '\(k)' containing '.'")
                    return
                }
                pairs.append((k, pair[1].value))
            }
            for (k, v) in pairs.sorted(by: { $0.key < $1.key }) {
                collect(v, key: "\(key).\(k)", property: property, isBuffer: isBuffer, into: &out)
            }
        default:
            // Sets, tuples, structs, enums and other classes are not keyed: report, don't guess.
            if holdsModulesOrTensors(value) {
                let kind = mirror.displayStyle.map { "\($0)" } ?? "value"
                out.problems.append("property '\(property)' holds modules or tensors inside a \(kind) of type "
                    + "\(type(of: value)), which cannot be keyed; use a Module, an array, or a [String: …] dictionary")
            }
        }
    }

    /// Whether `value` is or contains a Module or Tensor (bounded depth; the first element of a
    /// homogeneous container stands for all, so large arrays of numbers stay cheap).
    private static func holdsModulesOrTensors(_ value: Any, depth: Int = 0) -> Bool {
        if value is Tensor || value is Module { return true }
        if depth >= 4 { return false }
        let mirror = Mirror(reflecting: value)
        switch mirror.displayStyle {
        case .collection?, .set?, .dictionary?:
            guard let first = mirror.children.first else { return false }
            return holdsModulesOrTensors(first.value, depth: depth + 1)
        default:
            return mirror.children.contains { holdsModulesOrTensors($0.value, depth: depth + 1) }
        }
    }

    /// `camelCase` → `camel_case` (digits stay attached: `conv1` → `conv1`).
    static func stateKey(_ name: String) -> String {
        var out = ""
        for ch in name {
            if ch.isUppercase {
                if !out.isEmpty { out.append("_") }
                out.append(contentsOf: ch.lowercased())
            } else {
                out.append(ch)
            }
        }
        return out
    }

    /// Direct sub-modules with their keys, in declaration order.
    open func namedChildren() -> [(name: String, module: Module)] {
        structure().entries.compactMap { if case .child(let k, let m) = $0 { return (k, m) } else { return nil } }
    }

    /// This module and every descendant, depth first, with dotted keys ("" for self).
    public func namedModules() -> [(name: String, module: Module)] {
        var out: [(String, Module)] = [("", self)]
        for (k, m) in namedChildren() {
            out += m.namedModules().map { ($0.name.isEmpty ? k : "\(k).\($0.name)", $0.module) }
        }
        return out
    }

    /// All parameters with dotted keys (own first, then each child's), as PyTorch orders them.
    public func namedParameters() -> [(name: String, tensor: Tensor)] { named(includeParameters: true, includeBuffers: false) }

    public func namedBuffers() -> [(name: String, tensor: Tensor)] { named(includeParameters: false, includeBuffers: true) }

    /// Parameters and buffers, keyed as `state_dict()` keys them.
    public func stateDict() -> [(name: String, tensor: Tensor)] { named(includeParameters: true, includeBuffers: true) }

    private func named(includeParameters: Bool, includeBuffers: Bool) -> [(name: String, tensor: Tensor)] {
        var own: [(String, Tensor)] = [], buffers: [(String, Tensor)] = [], children: [(String, Tensor)] = []
        for entry in structure().entries {
            switch entry {
            case .parameter(let k, let t): if includeParameters { own.append((k, t)) }
            case .buffer(let k, let t): if includeBuffers { buffers.append((k, t)) }
            case .child: break
            }
        }
        for (k, m) in namedChildren() {
            children += m.named(includeParameters: includeParameters, includeBuffers: includeBuffers).map { ("\(k).\($0.name)", $0.tensor) }
        }
        return own + buffers + children
    }

    public func parameters() -> [Tensor] { namedParameters().map(\.tensor) }

    /// Parameters that are not frozen.
    public func trainableParameters() -> [Tensor] { parameters().filter(\.requiresGrad) }

    public var parameterCount: Int { parameters().reduce(0) { $0 + $1.count } }

    // MARK: Modes and devices

    /// Sets training mode on this module and every descendant.
    public func train(_ on: Bool = true) {
        for (_, m) in namedModules() { m.training = on }
    }

    public func eval() { train(false) }

    /// Stops gradients for every parameter (all, or those whose key starts with a prefix).
    public func freeze(prefix: String = "") throws {
        for (k, p) in namedParameters() where k.hasPrefix(prefix) { try p.requiringGrad(false) }
    }

    public func unfreeze(prefix: String = "") throws {
        for (k, p) in namedParameters() where k.hasPrefix(prefix) && p.dtype.isFloatingPoint { try p.requiringGrad(true) }
    }

    /// Moves (and optionally casts floating-point) parameters and buffers in place, keeping
    /// their identity, so optimisers created before the move still hold them.
    public func to(_ device: Device, dtype: DType? = nil) throws {
        try withoutGradients {
            for (_, t) in stateDict() {
                let target = t.dtype.isFloatingPoint ? (dtype ?? t.dtype) : t.dtype
                if t.device != device || t.dtype != target { try t.setData(try t.to(device, dtype: target)) }
            }
        }
    }

    /// Clears the gradients of all parameters (PyTorch's `zero_grad(set_to_none=True)`).
    public func zeroGrad() throws {
        for p in parameters() { try p.setGrad(nil) }
    }
}

/// A module mapping one tensor to one tensor, usable in `Sequential`.
public protocol UnaryLayer: Module {
    func callAsFunction(_ x: Tensor) throws -> Tensor
}

// MARK: - Property wrappers for keys and buffers

protocol ReflectedProperty {
    var key: String? { get }
    var isBuffer: Bool { get }
    var reflectedValue: Any { get }
}

/// Gives a parameter or sub-module an explicit state-dict key: `@Key("0") var first: Conv2d`.
@propertyWrapper
public struct Key<Value>: ReflectedProperty {
    public var wrappedValue: Value
    let name: String
    public init(wrappedValue: Value, _ name: String) {
        self.wrappedValue = wrappedValue
        self.name = name
    }
    var key: String? { name }
    var isBuffer: Bool { false }
    var reflectedValue: Any { wrappedValue }
}

/// Marks a tensor as a buffer: saved in the state dict, not trained (e.g. batch-norm running stats).
@propertyWrapper
public struct Buffer<Value>: ReflectedProperty {
    public var wrappedValue: Value
    let name: String?
    public init(wrappedValue: Value, key: String? = nil) {
        self.wrappedValue = wrappedValue
        self.name = key
    }
    var key: String? { name }
    var isBuffer: Bool { true }
    var reflectedValue: Any { wrappedValue }
}
