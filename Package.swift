// swift-tools-version:6.0
import PackageDescription

// libtorch comes from `make setup` (.deps/libtorch, the PyPI wheel's layout) or from the
// environment: LIBTORCH=/path/to/site-packages/torch (a folder holding lib/ and include/).
let packageRoot = Context.packageDirectory
let libtorch = Context.environment["LIBTORCH"] ?? "\(packageRoot)/.deps/libtorch/torch"
let torchLib = "\(libtorch)/lib"
// libtorch_cpu NEEDS libcudart/libcupti; the wheels put them in site-packages/nvidia/cu13/lib.
let cudaRuntimeLib = "\(libtorch)/../nvidia/cu13/lib"

let torchCxxFlags: [String] = [
    "-isystem", "\(libtorch)/include",
    "-isystem", "\(libtorch)/include/torch/csrc/api/include",
    "-D_GLIBCXX_USE_CXX11_ABI=1",
    "-Wno-deprecated-declarations",
]
// RPATH (not RUNPATH, hence --disable-new-dtags) so that libtorch's own dependencies resolve
// without LD_LIBRARY_PATH; --no-as-needed keeps torch_cpu even if only reached via dlopen'd code.
let torchLinkFlags: [String] = [
    "-L\(torchLib)",
    "-Xlinker", "--no-as-needed", "-ltorch_cpu", "-lc10", "-Xlinker", "--as-needed",
    "-Xlinker", "--disable-new-dtags",
    "-Xlinker", "-rpath", "-Xlinker", torchLib,
    "-Xlinker", "-rpath", "-Xlinker", cudaRuntimeLib,
    // A shipped binary finds a torch/lib placed (or symlinked) beside it.
    "-Xlinker", "-rpath", "-Xlinker", "$ORIGIN/torch/lib",
]

let package = Package(
    name: "Contour",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "contour", targets: ["contour"]),
        .library(name: "Torch", targets: ["Torch"]),
        .library(name: "NeuralNet", targets: ["NeuralNet"]),
        .library(name: "Models", targets: ["Models"]),
        .library(name: "Training", targets: ["Training"]),
        .library(name: "Geometry", targets: ["Geometry"]),
        .library(name: "Metrics", targets: ["Metrics"]),
        .library(name: "Objectives", targets: ["Objectives"]),
        // The commands, for a package that registers its own objectives/models/optimizers and runs `Contour.main()`.
        .library(name: "ContourCLI", targets: ["ContourCLI"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "5.0.1"),
        // TensorBoard event files (messages generated once into Sources/Training/TensorBoard/).
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
        // The zip container of PyTorch `.pth` files (torch.save).
        .package(url: "https://github.com/weichsel/ZIPFoundation", from: "0.9.20"),
        // `make docs` (swift package generate-documentation).
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.5.0"),
    ],
    targets: [
        // Floor 1
        .target(
            name: "CTorch",
            exclude: ["vendor"],
            // vendor/gloo: the Gloo headers c10d's ProcessGroupGloo.hpp includes (the wheel omits them).
            cxxSettings: [.headerSearchPath("vendor/gloo"), .unsafeFlags(torchCxxFlags)],
            linkerSettings: [.unsafeFlags(torchLinkFlags), .linkedLibrary("dl")]
        ),
        .target(name: "Geometry"),
        // Floor 2
        .target(name: "Torch", dependencies: ["CTorch", "Geometry", .product(name: "ZIPFoundation", package: "ZIPFoundation")]),
        .target(name: "Metrics", dependencies: ["Geometry"]),
        // libpng through its simplified C API (system library; `link "png"`).
        .systemLibrary(name: "CLibPNG"),
        .systemLibrary(name: "CLibJPEG"),
        .systemLibrary(name: "CLibTIFF"),
        .systemLibrary(name: "CNIfTI"),
        .target(
            name: "Imaging",
            dependencies: ["Geometry", "CLibPNG", "CLibJPEG", "CLibTIFF", "CNIfTI"],
            // nifticlib's headers include their siblings with <…> from /usr/include/nifti.
            swiftSettings: [.unsafeFlags(["-Xcc", "-I/usr/include/nifti"])]
        ),
        // Floor 3
        .target(name: "NeuralNet", dependencies: ["Torch"]),
        // Floor 4
        .target(name: "Models", dependencies: ["NeuralNet", "Torch"]),
        .target(name: "Objectives", dependencies: ["Torch", "NeuralNet", "Geometry"]),
        // Floor 5
        .target(
            name: "Training",
            dependencies: ["Torch", "NeuralNet", "Geometry", "Metrics", "Imaging", "Models", "Objectives",
                           .product(name: "Yams", package: "Yams"),
                           .product(name: "SwiftProtobuf", package: "swift-protobuf")],
            exclude: ["TensorBoard/TensorBoardEvent.proto"]
        ),
        // Floor 6
        .target(
            name: "ContourCLI",
            dependencies: [
                "Torch", "NeuralNet", "Geometry", "Metrics", "Imaging", "Models", "Training", "Objectives",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(
            name: "contour",
            dependencies: ["ContourCLI", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        // Fuzz targets of every file reader (`make fuzz`; README "Reliability checks"). The ordinary build replays inputs.
        .executableTarget(
            name: "contour-fuzz",
            dependencies: ["Geometry", "Imaging", "Torch", "Training", .product(name: "ZIPFoundation", package: "ZIPFoundation")],
            path: "fuzz/Harness"
        ),
        // The ASan test run's leak check at the end of the test bundle (`make check-sanitizers`); inert otherwise.
        // One test target depends on it: all test targets link into one test binary.
        .target(name: "CLeakCheck", path: "Tests/CLeakCheck"),
        .target(name: "LeakCheck", dependencies: ["CLeakCheck"], path: "Tests/LeakCheck"),
        .testTarget(name: "GeometryTests", dependencies: ["Geometry", "LeakCheck"], resources: [.copy("Fixtures")]),
        .testTarget(name: "MetricsTests", dependencies: ["Metrics", "Geometry"], resources: [.copy("Fixtures")]),
        .testTarget(name: "TorchTests", dependencies: ["Torch", "Geometry"], resources: [.copy("Fixtures")]),
        .testTarget(name: "ImagingTests", dependencies: ["Imaging", "Geometry"], resources: [.copy("Fixtures")]),
        .testTarget(name: "ModelsTests", dependencies: ["Models", "NeuralNet", "Torch"], resources: [.copy("Fixtures")]),
        .testTarget(name: "TrainingTests", dependencies: ["Training", "Imaging", "Models", "NeuralNet", "Torch",
                                                          .product(name: "Yams", package: "Yams")], exclude: ["Fixtures"]),
        .testTarget(name: "NeuralNetTests", dependencies: ["NeuralNet", "Torch"], resources: [.copy("Fixtures")]),
        .testTarget(name: "ContourCLITests", dependencies: ["ContourCLI", "Objectives", "Training", "Imaging", "Torch", "Models", "NeuralNet",
                                                            .product(name: "ArgumentParser", package: "swift-argument-parser")],
                    exclude: ["Fixtures"]),
        .testTarget(name: "ObjectivesTests", dependencies: ["Objectives", "Torch", "Geometry"], resources: [.copy("Fixtures")]),
    ],
    swiftLanguageModes: [.v5],
    cxxLanguageStandard: .cxx17
)
