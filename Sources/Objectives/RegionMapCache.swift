import Foundation
import Torch

/// Maps computed from labels, kept per case. Valid only while a case's labels do not change
/// (no spatial augmentation); the trainer decides that and passes case ids only then.
public final class RegionMapCache: @unchecked Sendable {
    private var store: [String: Tensor] = [:]
    private let lock = NSLock()

    public init() {}

    public var count: Int { lock.lock(); defer { lock.unlock() }; return store.count }

    public func removeAll() { lock.lock(); store.removeAll(); lock.unlock() }

    func value(_ key: String) -> Tensor? { lock.lock(); defer { lock.unlock() }; return store[key] }

    func insert(_ t: Tensor, for key: String) { lock.lock(); store[key] = t; lock.unlock() }
}
