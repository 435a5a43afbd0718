import ContourCLI

// The commands live in the ContourCLI library so other packages can reuse them (see README, "Extending Contour").
await Contour.main()
