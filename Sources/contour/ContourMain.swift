import ContourCLI

// The commands live in the ContourCLI library so other packages can reuse them (README, "Extending
// Contour"). A @main type rather than main.swift: top-level code would pick ArgumentParser's
// synchronous main(), which refuses an async root command.
@main
enum ContourMain {
    static func main() async { await Contour.main() }
}
