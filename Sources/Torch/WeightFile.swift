import Foundation

/// A file of named tensors, either safetensors or a PyTorch `.pth`, told apart by content
/// (a `.pth` is a zip archive), so the extension does not matter.
public enum WeightFile {
    public enum Format: String, Sendable { case safetensors, pytorch }

    public struct Contents {
        /// Tensors in file order.
        public var tensors: [(name: String, tensor: Tensor)]
        public var format: Format
        /// For a `.pth` training checkpoint: the key the state dict was found under.
        public var wrapperKey: String?
    }

    public static func format(of path: String) throws -> Format {
        let head = try FileHandle.head(path, count: 4)
        if PyTorchCheckpoint.looksLikeZip(head) || PyTorchCheckpoint.looksLikeLegacy(head) { return .pytorch }
        return .safetensors
    }

    public static func load(_ path: String) throws -> Contents {
        switch try format(of: path) {
        case .pytorch:
            let f = try PyTorchCheckpoint.load(path)
            return Contents(tensors: f.tensors, format: .pytorch, wrapperKey: f.wrapperKey)
        case .safetensors:
            return Contents(tensors: try Safetensors.load(path).tensors, format: .safetensors, wrapperKey: nil)
        }
    }
}
