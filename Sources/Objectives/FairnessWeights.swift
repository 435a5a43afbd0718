import Foundation

/// The α-fair weights shared by agb, fairgrad and nash-mtl: α ≥ 0 with Aα = (α + ε)^(−p) on
/// the Gram A of the active gradients (norm > float32 tiny), by bounded least squares.
/// p = 1/2 is FairGrad(2) = AGB, p = 1 Nash-MTL, p = 1/a FairGrad(a). Inactive gradients get
/// α = 0; none active gives 1/K each, one active gives 1; a failed solve gives α ∝ norms.
struct FairnessWeights {
    var power: Double
    var barrier = 1e-8
    /// Fix α of this index (in the full list) to `anchorValue` and solve for the others from 1.
    var anchor: Int?
    var anchorValue = 1.0

    /// The residual r(α) = Aα⁺ − (α⁺ + ε)^(−p) and its Jacobian for the unknowns `free`, with
    /// the other entries of α held at `fixed`.
    func residual(_ A: [[Double]], fixed: [Double], free: [Int]) -> ([Double]) -> (r: [Double], jacobian: [[Double]]) {
        { x in
            var alpha = fixed
            for (k, i) in free.enumerated() { alpha[i] = Swift.max(x[k], 0) }
            let m = alpha.count
            var r = [Double](repeating: 0, count: m)
            var J = [[Double]](repeating: [Double](repeating: 0, count: free.count), count: m)
            for i in 0..<m {
                var s = 0.0
                for j in 0..<m { s += A[i][j] * alpha[j] }
                r[i] = s - Foundation.pow(alpha[i] + barrier, -power)
                for (k, j) in free.enumerated() {
                    J[i][k] = A[i][j]
                    if i == j { J[i][k] += power * Foundation.pow(alpha[i] + barrier, -power - 1) }
                }
            }
            return (r, J)
        }
    }

    /// α on a Gram `A` (m×m, ridge included) alone: the solve without active-set handling.
    func solve(gram A: [[Double]], anchorAt anchored: Int? = nil) throws -> [Double] {
        let m = A.count
        if let p = anchored {
            var fixed = [Double](repeating: 0, count: m)
            fixed[p] = anchorValue
            let free = (0..<m).filter { $0 != p }
            let x = try BoundedLeastSquares().solve(start: free.map { _ in 1.0 }, lower: free.map { _ in 0.0 },
                                                    residual: residual(A, fixed: fixed, free: free))
            for (k, i) in free.enumerated() { fixed[i] = Swift.max(x[k], 0) }
            return fixed
        }
        let x = try BoundedLeastSquares().solve(start: [Double](repeating: 1 / Double(m), count: m),
                                                lower: [Double](repeating: 0, count: m),
                                                residual: residual(A, fixed: [Double](repeating: 0, count: m), free: Array(0..<m)))
        return x.map { Swift.max($0, 0) }
    }

    /// α for all K objectives from the full Gram (ridge included) and the gradient norms.
    func weights(gram: [[Double]], norms: [Double]) -> [Double] {
        let K = norms.count
        let active = norms.indices.filter { norms[$0] > Double(Float.leastNormalMagnitude) }
        guard !active.isEmpty else { return [Double](repeating: 1 / Double(K), count: K) }
        var alpha = [Double](repeating: 0, count: K)
        if active.count == 1 {
            alpha[active[0]] = active[0] == anchor ? anchorValue : 1
            return alpha
        }
        let A = active.map { i in active.map { j in gram[i][j] } }
        let anchored = anchor.flatMap { active.firstIndex(of: $0) }
        var solved = try? solve(gram: A, anchorAt: anchored)
        if let s = solved, !s.allSatisfy(\.isFinite) { solved = nil }
        let sub = solved ?? {
            let total = active.reduce(0) { $0 + norms[$1] } + 1e-12
            var f = active.map { norms[$0] / total }
            if let p = anchored { f[p] = anchorValue }
            return f
        }()
        for (k, i) in active.enumerated() { alpha[i] = Swift.max(sub[k], 0) }
        return alpha
    }
}
