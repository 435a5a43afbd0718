import Foundation

/// Time per op in a Chrome trace written by `Profiler` or by `torch.profiler`
/// (`export_chrome_trace`): self time (the op minus the ops it called), total time and calls,
/// summed over threads — what `prof.key_averages()` tables in PyTorch.
public struct ProfileSummary {
    public struct Row: Equatable {
        public var name: String
        public var calls = 0
        public var selfMicroseconds = 0.0
        public var totalMicroseconds = 0.0
    }

    /// One row per op name, the largest self time first.
    public let rows: [Row]

    public init(tracePath: String) throws {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: tracePath)) } catch {
            throw TorchError("profile trace \(tracePath): cannot read it (\(error.localizedDescription))")
        }
        guard let root = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let events = root["traceEvents"] as? [[String: Any]] else {
            throw TorchError("profile trace \(tracePath): expected a Chrome trace (a JSON object with traceEvents)")
        }
        self.init(events: events)
    }

    /// Complete events ("ph": "X") of the op categories; nesting is read per thread from the times.
    init(events: [[String: Any]]) {
        struct Span { var name: String; var start: Double; var end: Double; var children = 0.0 }
        var byThread: [String: [Span]] = [:]
        for e in events where e["ph"] as? String == "X" {
            guard let cat = e["cat"] as? String, cat == "cpu_op" || cat == "user_annotation",
                  let name = e["name"] as? String, let ts = Self.number(e["ts"]), let dur = Self.number(e["dur"]) else { continue }
            byThread["\(e["pid"] ?? "")/\(e["tid"] ?? "")", default: []].append(Span(name: name, start: ts, end: ts + dur))
        }
        var table: [String: Row] = [:]
        // Closes the innermost open span: its row gets it, its parent counts it as a child.
        func pop(_ stack: inout [Span]) {
            let s = stack.removeLast(), d = s.end - s.start
            table[s.name, default: Row(name: s.name)].calls += 1
            table[s.name]!.totalMicroseconds += d
            table[s.name]!.selfMicroseconds += Swift.max(0, d - s.children)
            if !stack.isEmpty { stack[stack.count - 1].children += d }
        }
        for var spans in byThread.values {
            // Parents first: earlier start, then the longer span.
            spans.sort { $0.start != $1.start ? $0.start < $1.start : $0.end > $1.end }
            var stack: [Span] = []
            for s in spans {
                while let top = stack.last, top.end <= s.start { pop(&stack) }
                stack.append(s)
            }
            while !stack.isEmpty { pop(&stack) }
        }
        rows = table.values.sorted { $0.selfMicroseconds != $1.selfMicroseconds ? $0.selfMicroseconds > $1.selfMicroseconds : $0.name < $1.name }
    }

    static func number(_ v: Any?) -> Double? {
        if let d = v as? Double { return d }
        if let i = v as? Int { return Double(i) }
        if let s = v as? String { return Double(s) }
        return nil
    }

    /// Total self time, µs.
    public var totalSelfMicroseconds: Double { rows.reduce(0) { $0 + $1.selfMicroseconds } }
}
