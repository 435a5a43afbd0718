/// Holm's step-down correction of a family of p-values (family-wise error rate): sorted
/// ascending, p₍ᵢ₎ becomes max over j ≤ i of min(1, (m − j + 1) p₍ⱼ₎). Tests that are not
/// applicable (nil) are not part of the family and stay nil.
public enum HolmCorrection {
    public static func adjust(_ pValues: [Double?]) -> [Double?] {
        let present = pValues.indices.filter { pValues[$0] != nil }.sorted { pValues[$0]! < pValues[$1]! }
        let m = present.count
        var out = [Double?](repeating: nil, count: pValues.count)
        var running = 0.0
        for (rank, i) in present.enumerated() {
            running = Swift.max(running, Swift.min(1, Double(m - rank) * pValues[i]!))
            out[i] = running
        }
        return out
    }
}
