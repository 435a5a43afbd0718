import FoundationEssentials

/// How one channel is normalised during preprocessing.
public struct ChannelNormalization: Sendable, Codable, Equatable {
    public enum Scheme: String, Sendable, Codable {
        /// Clip to the dataset's foreground [p0.5, p99.5], then (x − foreground mean) / foreground sd.
        case ct
        /// Per image: (x − mean) / sd, over the non-zero region when `useNonZeroMask`.
        case zscore
        /// Divide by 255 (8-bit photographs).
        case rgb
        case none
    }

    public var channel: String
    public var scheme: Scheme
    /// zscore over the non-zero (cropped-to) region only, leaving the rest 0: nnU-Net does this when
    /// cropping removed more than a quarter of the median image.
    public var useNonZeroMask: Bool
    public var clip: [Double]?
    public var mean: Double?
    public var sd: Double?

    /// nnU-Net's channel-name rule: "CT" → ct, "noNorm" → none, "rgb_to_0_1" → rgb, else zscore.
    public init(channel: String, statistics: IntensityStatistics, useNonZeroMask: Bool) {
        self.channel = channel
        switch channel.lowercased() {
        case "ct":
            scheme = .ct
            clip = [statistics.percentile00_5, statistics.percentile99_5]
            mean = statistics.mean
            sd = statistics.sd
            self.useNonZeroMask = false
        case "nonorm", "none": scheme = .none; self.useNonZeroMask = false
        case "rgb_to_0_1", "rgb": scheme = .rgb; self.useNonZeroMask = false
        default: scheme = .zscore; self.useNonZeroMask = useNonZeroMask
        }
    }

    /// Normalises `values` in place; `nonZero` marks the voxels inside the image's non-zero region.
    public func apply(_ values: inout [Float], nonZero: [Bool]?) {
        switch scheme {
        case .none: return
        case .rgb: for i in values.indices { values[i] /= 255 }
        case .ct:
            let lo = Float(clip![0]), hi = Float(clip![1]), m = Float(mean!), s = Float(Swift.max(sd!, 1e-8))
            for i in values.indices { values[i] = (Swift.min(Swift.max(values[i], lo), hi) - m) / s }
        case .zscore:
            let mask = useNonZeroMask ? nonZero : nil
            var n = 0.0, sum = 0.0
            for i in values.indices where mask?[i] ?? true { sum += Double(values[i]); n += 1 }
            guard n > 0 else { return }
            let m = sum / n
            var ss = 0.0
            for i in values.indices where mask?[i] ?? true { let d = Double(values[i]) - m; ss += d * d }
            let s = Swift.max((ss / n).squareRoot(), 1e-8)
            for i in values.indices {
                values[i] = (mask?[i] ?? true) ? Float((Double(values[i]) - m) / s) : 0
            }
        }
    }
}

/// One planned configuration (`2d`, `3d_fullres`, `3d_lowres`).
public struct ConfigurationPlan: Sendable, Codable, Equatable {
    /// The image axes this configuration sees (numpy order): all three, or the two in-plane ones for `2d`.
    public var axes: [Int]
    /// Target spacing of those axes, mm.
    public var spacing: [Double]
    /// Median case shape after resampling to `spacing` (fractional where the median falls between cases).
    public var medianShape: [Double]
    public var patchSize: [Int]
    public var batchSize: Int
    public var stages: Int
    public var poolsPerAxis: [Int]
    public var poolKernelSizes: [[Int]]
    public var convKernelSizes: [[Int]]
    public var baseWidth: Int
    public var maxWidth: Int
    public var convsPerStage: Int
    /// Contour's memory estimate for `batchSize` (see `MemoryModel`), GB (2^30 bytes).
    public var estimatedMemoryGB: Double
    /// Images: spline order 3 (order 0 along the coarse axis under the separate-z rule);
    /// labels: `linear` (per-class linear, argmax) or `nearest`.
    public var labelResampling: Resampling.LabelMode
}

/// `contour data plan`'s output: the fingerprint, per-channel normalisation, and the configurations.
public struct ExperimentPlans: Sendable, Codable, Equatable {
    public var dataset: String
    public var memoryBudgetGB: Double
    public var memoryModel: MemoryModel
    public var anisotropyThreshold: Double
    public var labels: [Int]
    public var normalization: [ChannelNormalization]
    public var originalMedianSpacing: [Double]
    public var originalMedianShape: [Double]
    public var configurations: [String: ConfigurationPlan]
    public var fingerprint: DatasetFingerprint

    public func configuration(_ name: String, path: String) throws -> ConfigurationPlan {
        guard let c = configurations[name] else {
            throw ImagingError("\(path): no configuration \"\(name)\"; this plan has \(configurations.keys.sorted().joined(separator: ", "))")
        }
        return c
    }

    /// Indented JSON with sorted keys; lists of numbers stay on one line (`"patchSize": [12, 40, 48]`).
    public func encoded() throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return Array(Self.indent(Array(try encoder.encode(self))).utf8)
    }

    /// Re-indents compact JSON: objects one member per line, lists without objects inline.
    static func indent(_ json: [UInt8]) -> String {
        var out = "", depth = 0, i = 0, inString = false
        func newline() { out += "\n" + String(repeating: "  ", count: depth) }
        while i < json.count {
            let ch = Character(UnicodeScalar(json[i]))
            if inString {
                out.append(ch)
                if ch == "\\", i + 1 < json.count { i += 1; out.append(Character(UnicodeScalar(json[i]))) }
                else if ch == "\"" { inString = false }
                i += 1
                continue
            }
            switch ch {
            case "\"": inString = true; out.append(ch)
            case "{" where i + 1 < json.count && json[i + 1] == 125: out += "{}"; i += 2; continue
            case "{": depth += 1; out.append(ch); newline()
            case "}": depth -= 1; newline(); out.append(ch)
            case ",": out.append(","); newline()
            case ":": out += ": "
            case "[":
                // Inline when the list holds no object.
                var j = i + 1, level = 1, hasObject = false, quoted = false
                while j < json.count && level > 0 {
                    let c = json[j]
                    if quoted { if c == 92 { j += 1 } else if c == 34 { quoted = false } }
                    else if c == 34 { quoted = true } else if c == 91 { level += 1 } else if c == 93 { level -= 1 } else if c == 123 { hasObject = true }
                    j += 1
                }
                if hasObject { depth += 1; out.append(ch); newline() } else {
                    out += String(decoding: json[i..<j], as: UTF8.self).replacing(",", with: ", ")
                    i = j
                    continue
                }
            case "]": depth -= 1; newline(); out.append(ch)
            default: out.append(ch)
            }
            i += 1
        }
        return out
    }

    public func write(path: String) throws { try FileSystem.writeAtomically(try encoded() + [10], to: path) }

    public static func read(path: String) throws -> ExperimentPlans {
        guard FileSystem.exists(path) else { throw ImagingError("\(path): no such plans file (write one with `contour data plan DATASET --output \(path)`)") }
        do { return try JSONDecoder().decode(ExperimentPlans.self, from: Data(try FileSystem.read(path))) } catch let e as ImagingError {
            throw e
        } catch {
            throw ImagingError("\(path): not a plans file written by `contour data plan` (\(error))")
        }
    }
}
