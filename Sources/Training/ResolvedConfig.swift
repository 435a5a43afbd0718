import NeuralNet

extension ExperimentConfig {
    /// This configuration with the model's and objectives' options as they resolved when built
    /// (every default written out), so a saved config shows what ran and reruns the same. With
    /// stages, a stage that sets its own model or objectives gets its resolved options; the
    /// top-level ones come from a stage that inherits them.
    public func resolved(by built: [(name: String, experiment: Experiment)]) throws -> ExperimentConfig {
        var out = self
        guard !stages.isEmpty else {
            guard let e = built.first?.experiment else { return out }
            out.model.options = e.modelOptions
            for (i, options) in try e.objectiveOptions().enumerated() { out.objectives[i].options = options }
            return out
        }
        var topModel = false, topObjectives = false
        for (i, stage) in stages.enumerated() {
            guard let e = built.first(where: { $0.name == stage.name })?.experiment else { continue }
            if case .object(var m)? = stage.overrides["model"] {
                m["options"] = .object(e.modelOptions)
                out.stages[i].overrides["model"] = .object(m)
            } else if !topModel {
                out.model.options = e.modelOptions
                topModel = true
            }
            let objectiveOptions = try e.objectiveOptions()
            let resolvedObjectives = zip(e.config.objectives, objectiveOptions).map { o, options in
                var o = o
                o.options = options
                return o
            }
            if stage.overrides["objectives"] != nil {
                out.stages[i].overrides["objectives"] = .array(resolvedObjectives.map(\.tree))
            } else if !topObjectives {
                out.objectives = resolvedObjectives
                topObjectives = true
            }
        }
        return out
    }
}
