import Torch

/// A neural-network building block, in the manner of `torch.nn.Module`.
///
/// Parameters (stored `Tensor` properties), buffers (`@Buffer` properties) and sub-modules
/// (stored `Module` properties, arrays of modules, optionals of either) are found by
/// reflection. Their state-dict keys are the property names in snake_case joined by dots —
/// what the same PyTorch model's `state_dict()` uses — so `downBlocks[1].conv.runningMean`
/// is `down_blocks.1.conv.running_mean`. `@Key("name")` overrides a name.
open class Module {
    /// Training mode (dropout active, batch-norm batch statistics); set by `train(_:)`.
    public private(set) var training = true

    public init() {}

    // MARK: Reflection

    private enum Entry {
        case parameter(String, Tensor)
        case buffer(String, Tensor)
        case child(String, Module)
    }

    private func ownEntries() -> [Entry] {
        var mirrors: [Mirror] = []
        var m: Mirror? = Mirror(reflecting: self)
        while let current = m {
            mirrors.append(current)
            m = current.superclassMirror
        }
        var out: [Entry] = []
        // Base-class properties come first, as PyTorch registers them in __init__ order.
        for mirror in mirrors.reversed() {
            for child in mirror.children {
                guard var label = child.label else { continue }
                var value = child.value
                var isBuffer = false
                if let wrapped = value as? ReflectedProperty {
                    if label.hasPrefix("_") { label.removeFirst() }
                    value = wrapped.reflectedValue
                    isBuffer = wrapped.isBuffer
                    label = wrapped.key ?? Self.stateKey(label)
                } else {
                    if label.hasPrefix("$") || label == "training" { continue }
                    label = Self.stateKey(label)
                }
                Self.collect(value, key: label, isBuffer: isBuffer, into: &out)
            }
        }
        return out
    }

    private static func collect(_ value: Any, key: String, isBuffer: Bool, into out: inout [Entry]) {
        if let t = value as? Tensor {
            out.append(isBuffer ? .buffer(key, t) : .parameter(key, t))
        } else if let m = value as? Module {
            out.append(.child(key, m))
        } else {
            let mirror = Mirror(reflecting: value)
            if mirror.displayStyle == .collection {
                for (i, element) in mirror.children.enumerated() {
                    collect(element.value, key: "\(key).\(i)", isBuffer: isBuffer, into: &out)
                }
            } else if mirror.displayStyle == .optional, let some = mirror.children.first {
                collect(some.value, key: key, isBuffer: isBuffer, into: &out)
            }
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
        ownEntries().compactMap { if case .child(let k, let m) = $0 { return (k, m) } else { return nil } }
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
        for entry in ownEntries() {
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
