import ArgumentParser
import Foundation
import Torch

/// `contour weights convert|list`: PyTorch `.pth` and safetensors weight files.
struct WeightsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "weights",
        abstract: "Inspect weight files and convert PyTorch .pth files (torch.save state dicts) to safetensors.",
        subcommands: [Convert.self, List.self])

    struct Convert: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Convert a .pth state dict (torch.save, zip format) to .safetensors, keeping names, dtypes and order.",
            discussion: """
            Only tensors in a dict or OrderedDict are read (or one nested under state_dict, model, …, which is \
            named); any other pickled object is refused, so no code in the file runs.
            """)

        @Argument(help: "The .pth file.") var input: String
        @Argument(help: "The .safetensors file to write (replaced atomically).") var output: String

        func run() throws {
            let file = try WeightFile.load(input)
            try Safetensors.save(file.tensors, metadata: ["source": (input as NSString).lastPathComponent], to: output)
            let elements = file.tensors.map { $0.tensor.shape.reduce(1, *) }.reduce(0, +)
            print("\(output): \(file.tensors.count) tensors, \(elements) elements"
                  + (file.wrapperKey.map { " (the state dict under '\($0)' of \(input))" } ?? ""))
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print each tensor's name, dtype and shape (.pth or .safetensors).")

        @Argument(help: "A .pth or .safetensors file.") var file: String

        func run() throws {
            let contents = try WeightFile.load(file)
            if let key = contents.wrapperKey { print("# state dict under '\(key)'") }
            for t in Self.lines(contents.tensors) { print(t) }
            let elements = contents.tensors.map { $0.tensor.shape.reduce(1, *) }.reduce(0, +)
            print("# \(contents.tensors.count) tensors, \(elements) elements (\(contents.format.rawValue))")
        }

        static func lines(_ tensors: [(name: String, tensor: Tensor)]) -> [String] {
            let width = tensors.map(\.name.count).max() ?? 0
            return tensors.map { name, t in
                name.padding(toLength: width, withPad: " ", startingAt: 0) + "  \(t.dtype)".padding(toLength: 11, withPad: " ", startingAt: 0)
                    + " [\(t.shape.map(String.init).joined(separator: ", "))]"
            }
        }
    }
}
