import NeuralNet

extension ObjectiveGroup {
    /// `hadwiger`: HadBalance's objectives (METHODS §3.5) — the primary segmentation loss followed
    /// by one `hadwiger-<prior>` objective per prior, sharing deltas/tau/sigma/eps. Options:
    /// `primary` (cedice), `primaryOptions` ({}), `deltas` ([8, 12, 16]), `tau` (0.5), `sigma` (1),
    /// `eps` (1e-6), `priors` ([area, perimeter, euler], any non-empty subset in any order).
    public static let hadwiger = ObjectiveGroup(
        name: "hadwiger",
        summary: "HadBalance: primary loss + hadwiger-area/-perimeter/-euler as separate objectives for a balancer; "
            + "primary (cedice), primaryOptions, deltas, tau, sigma, eps, priors"
    ) { o in
        let primary = try o.string("primary", default: "cedice")
        var primaryOptions: [String: OptionValue] = [:]
        if o.has("primaryOptions") {
            guard case .object(let m) = o.values["primaryOptions"]! else {
                throw OptionError(key: o.path.map { "\($0).primaryOptions" } ?? "primaryOptions",
                                  "\(o.subject("primaryOptions")) must be a mapping of the primary loss's options, got \(o.values["primaryOptions"]!.phrase)")
            }
            primaryOptions = m
        }
        guard ObjectiveRegistry.group(named: primary) == nil, !primary.hasPrefix("hadwiger-") else {
            throw OptionError(key: o.path.map { "\($0).primary" } ?? "primary",
                              "\(o.subject("primary")) must be a segmentation loss (e.g. cedice, dice, ce), got '\(primary)'")
        }
        // Build it once so a wrong name or option is reported here, with this group's key.
        do { _ = try ObjectiveRegistry.make(primary, options: primaryOptions) } catch {
            throw OptionError(key: o.path.map { "\($0).primary" } ?? "primary", "\(o.subject("primary")): \(error)")
        }
        let deltas = try o.ints("deltas", default: [8, 12, 16], requirement: "a non-empty list of integers ≥ 1", valid: { $0 >= 1 })
        guard !deltas.isEmpty else { throw OptionError(key: o.path.map { "\($0).deltas" } ?? "deltas", "\(o.subject("deltas")) must not be empty") }
        let tau = try o.double("tau", default: 0.5, requirement: "a number > 0") { $0 > 0 && $0.isFinite }
        let sigma = try o.double("sigma", default: 1.0, requirement: "a finite number (≤ 0: no blur)")
        let eps = try o.double("eps", default: 1e-6, requirement: "a number in (0, 0.5)") { $0 > 0 && $0 < 0.5 }
        let priors = try Self.priors(o)
        let scales = OptionValue.array(deltas.map { .number(Double($0)) })
        return [Member(name: primary, options: primaryOptions)] + priors.map { term in
            var m: [String: OptionValue] = ["deltas": scales]
            if term == .perimeter { m["tau"] = .number(tau); m["sigma"] = .number(sigma) }
            if term != .area { m["eps"] = .number(eps) }
            return Member(name: "hadwiger-\(term.rawValue)", options: m)
        }
    }

    /// `priors`: a name or a list of distinct names among area, perimeter, euler.
    private static func priors(_ o: ObjectiveOptions) throws -> [HadwigerLoss.Term] {
        let all = HadwigerLoss.Term.allCases
        guard o.has("priors") else { return all }
        let key = o.path.map { "\($0).priors" } ?? "priors"
        let what = "a non-empty list of distinct priors among \(all.map(\.rawValue).joined(separator: ", "))"
        let items: [OptionValue]
        switch o.values["priors"]! {
        case .string(let s): items = [.string(s)]
        case .array(let a): items = a
        case let v: throw OptionError(key: key, "\(o.subject("priors")) must be \(what), got \(v.phrase)")
        }
        var out: [HadwigerLoss.Term] = []
        for item in items {
            guard case .string(let s) = item, let t = HadwigerLoss.Term(rawValue: s), !out.contains(t) else {
                throw OptionError(key: key, "\(o.subject("priors")) must be \(what), got \(OptionValue.array(items).phrase)")
            }
            out.append(t)
        }
        guard !out.isEmpty else { throw OptionError(key: key, "\(o.subject("priors")) must be \(what), got []") }
        return out
    }
}
