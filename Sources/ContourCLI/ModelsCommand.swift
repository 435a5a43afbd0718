import ArgumentParser
import Models

/// `contour models [PATTERN]`: the model registry.
struct ModelsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "models", abstract: "List the models Contour can build, with their options.")

    @Argument(help: "Shell-style pattern, e.g. 'unet*'.") var pattern = "*"

    func run() throws {
        let entries = ModelRegistry.list(matching: pattern)
        if entries.isEmpty { throw ValidationError("no model matches '\(pattern)'; available: \(ModelRegistry.names.joined(separator: ", "))") }
        for e in entries { print("\(e.name)\n    \(e.summary)") }
    }
}
