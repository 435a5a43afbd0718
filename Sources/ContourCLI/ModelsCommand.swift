import ArgumentParser
import Foundation
import Models
import NeuralNet
import Torch

/// `contour models [list] [PATTERN]` and `contour models run`: the model registry.
struct ModelsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "models",
        abstract: "List the models Contour can build, with their options, or run one on an input.",
        subcommands: [List.self, Run.self],
        defaultSubcommand: List.self)

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the models (the default: `contour models 'unet*'`).")

        @Argument(help: "Shell-style pattern, e.g. 'unet*'.") var pattern = "*"

        func run() throws {
            let entries = ModelRegistry.list(matching: pattern)
            if entries.isEmpty { throw ValidationError("no model matches '\(pattern)'; available: \(ModelRegistry.names.joined(separator: ", "))") }
            for e in entries { print("\(e.name)\n    \(e.summary)") }
        }
    }

    struct Run: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "One forward pass of a model with given weights: each head written as OUTPUT/HEAD.npy.",
            discussion: """
            The weights (.safetensors or PyTorch .pth) must match the model exactly: a missing, unexpected or \
            mis-shaped key is an error naming it. The model runs in eval mode without gradients. Deep-supervision \
            levels, when the model has them, are written as HEAD_1.npy, HEAD_2.npy, … (highest resolution first).
            """)

        @Argument(help: "Model name; see `contour models list`.") var name: String
        @Option(help: "Model options as a JSON object, e.g. '{\"stages\": 4}'.") var options = "{}"
        @Option(help: "Weight file (.safetensors or .pth).") var weights: String
        @Option(help: "Input .npy of shape (N, C, spatial…); converted to float32.") var input: String
        @Option(help: "Folder for HEAD.npy files.") var output: String
        @Option(help: "Classes of the segmentation head, background included.") var classes = 2
        @Option(help: "Input channels (default: the input's second dimension).") var inChannels: Int?
        @Option(help: "Landmarks (heatmap channels), for models with a heatmap head.") var landmarks = 0
        @Option(help: "Device: auto, cpu, cuda, cuda:N.") var device = "cpu"

        func run() throws {
            for (name, path) in [("--weights", weights), ("--input", input)] where !FileManager.default.isReadableFile(atPath: path) {
                throw CommandLineError("\(name) \(path): no such file")
            }
            let x = try Tensor.loadNPY(input)
            guard x.rank >= 3 else { throw CommandLineError("--input \(input): shape \(x.shape); expected (N, C, spatial…)") }
            let context = ModelContext(inChannels: inChannels ?? x.shape[1], classes: classes, landmarks: landmarks)
            let model = try ModelRegistry.make(name, options: try Options(json: options, for: name), context: context)
            guard x.rank == model.spatialDims + 2, x.shape[1] == context.inChannels else {
                throw CommandLineError("--input \(input): shape \(x.shape); \(name) expects (N, \(context.inChannels), "
                                       + "\(model.spatialDims) spatial sizes)")
            }
            try model.loadWeights(from: weights, strict: true)
            let dev = try Device(parsing: device)
            try model.to(dev)
            model.eval()
            let heads = try withoutGradients { try model.heads(try x.to(dev, dtype: .float32)) }
            try CommandLineError.makeFolder(output, option: "--output")
            for head in heads.names {
                for (i, level) in heads.levels(head).enumerated() {
                    let path = "\(output)/\(head)\(i == 0 ? "" : "_\(i)").npy"
                    let t = try level.to(.cpu, dtype: .float32)
                    try t.saveNPY(path)
                    print("\(path)  \(t.shape)")
                }
            }
        }
    }
}
