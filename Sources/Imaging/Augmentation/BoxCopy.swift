/// Copies a box out of a row-major array in one pass: zero (or `fill`) outside the array, and
/// mirrored along the axes where `flips` is set — a crop and a mirror without an intermediate
/// array. Every output element is written once (no zero fill first).
enum BoxCopy {
    /// The box `origin ..< origin + size` of the array of `shape` at `src` (its trailing
    /// `size.count` axes), output axis a reversed where `flips[a]`.
    static func copy<T>(from src: UnsafePointer<T>, shape: [Int], origin: [Int], size: [Int], flips: [Bool]? = nil, fill: T) -> [T] {
        let rank = size.count, count = size.reduce(1, *)
        guard count > 0 else { return [] }
        let row = size[rank - 1]
        let flipRow = flips?[rank - 1] ?? false
        // Source columns of a row that lie inside the array, and where they land in the output row.
        let x0 = Swift.max(origin[rank - 1], 0), x1 = Swift.min(origin[rank - 1] + row, shape[rank - 1])
        let inside = x1 - x0
        var strides = [Int](repeating: 1, count: rank), outStrides = [Int](repeating: 1, count: rank)
        for a in stride(from: rank - 2, through: 0, by: -1) {
            strides[a] = strides[a + 1] * shape[a + 1]
            outStrides[a] = outStrides[a + 1] * size[a + 1]
        }
        let rows = count / row
        return [T](unsafeUninitializedCapacity: count) { dst, initialised in
            let out = dst.baseAddress!
            var index = [Int](repeating: 0, count: Swift.max(rank - 1, 0))
            for _ in 0..<rows {
                var within = inside > 0, s = 0, d = 0
                for a in 0..<(rank - 1) {
                    let v = origin[a] + index[a]
                    if v < 0 || v >= shape[a] { within = false }
                    s += v * strides[a]
                    d += ((flips?[a] ?? false) ? size[a] - 1 - index[a] : index[a]) * outStrides[a]
                }
                let o = out + d
                if within {
                    // Output columns [lead, lead + inside) hold source columns x0 ..< x1 (reversed when flipped).
                    let lead = flipRow ? origin[rank - 1] + row - x1 : x0 - origin[rank - 1]
                    o.initialize(repeating: fill, count: lead)
                    if flipRow {
                        let from = src + s + x0, to = o + lead + inside - 1
                        for k in 0..<inside { (to - k).initialize(to: from[k]) }
                    } else {
                        (o + lead).initialize(from: src + s + x0, count: inside)
                    }
                    (o + lead + inside).initialize(repeating: fill, count: row - lead - inside)
                } else {
                    o.initialize(repeating: fill, count: row)
                }
                var a = rank - 2
                while a >= 0 {
                    index[a] += 1
                    if index[a] < size[a] { break }
                    index[a] = 0
                    a -= 1
                }
            }
            initialised = count
        }
    }
}
