import Foundation

/// Minimises ½‖r(x)‖² subject to x ≥ lower (elementwise), for small dense problems (a few
/// objectives), with an analytic Jacobian: Levenberg–Marquardt steps, each kept feasible by
/// stopping short of the bound. Used by the Gram-based balancers (agb, fairgrad, nash-mtl),
/// whose solutions are interior (the residuals have a barrier at 0), so the fixed point matches
/// scipy.optimize.least_squares(bounds=(0, inf)) to its tolerance.
public struct BoundedLeastSquares {
    public var ftol = 1e-12
    public var xtol = 1e-12
    public var gtol = 1e-12
    public var maxIterations = 200
    /// The fraction of the distance to the bound a step may use at most (keeps x strictly feasible).
    let boundaryFraction = 0.995

    public init() {}

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// `residual(x)` returns (r, J) with J row-major (J[i][j] = ∂rᵢ/∂xⱼ).
    public func solve(start: [Double], lower: [Double],
                      residual: ([Double]) -> (r: [Double], jacobian: [[Double]])) throws -> [Double] {
        let n = start.count
        guard lower.count == n else { throw Failure(description: "bounded least squares: \(lower.count) bounds for \(n) unknowns") }
        var x = zip(start, lower).map { Swift.max($0, $1) }
        var (r, J) = residual(x)
        var cost = 0.5 * r.reduce(0) { $0 + $1 * $1 }
        guard cost.isFinite else { throw Failure(description: "bounded least squares: the residual is not finite at the start \(x)") }
        var lambda = 1e-3
        for _ in 0..<maxIterations {
            // Normal equations JᵀJ and gradient Jᵀr.
            var H = [[Double]](repeating: [Double](repeating: 0, count: n), count: n)
            var g = [Double](repeating: 0, count: n)
            for i in 0..<r.count {
                for a in 0..<n {
                    g[a] += J[i][a] * r[i]
                    for b in 0..<n { H[a][b] += J[i][a] * J[i][b] }
                }
            }
            // First-order optimality with the bound: components at the bound pushing outward do not count.
            let projected = (0..<n).map { a in x[a] <= lower[a] && g[a] > 0 ? 0 : g[a] }
            if projected.map(Swift.abs).max() ?? 0 <= gtol * Swift.max(1, cost) { break }
            var accepted = false
            for _ in 0..<50 {
                var M = H
                for a in 0..<n { M[a][a] += lambda * Swift.max(H[a][a], 1e-300) }
                guard let delta = Self.solveLinear(M, g.map { -$0 }) else { lambda *= 10; continue }
                var candidate = x
                for a in 0..<n {
                    var step = delta[a]
                    if x[a] + step < lower[a] { step = -boundaryFraction * (x[a] - lower[a]) }
                    candidate[a] = x[a] + step
                }
                let (r2, J2) = residual(candidate)
                let cost2 = 0.5 * r2.reduce(0) { $0 + $1 * $1 }
                if cost2.isFinite, cost2 < cost {
                    let stepNorm = zip(candidate, x).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }.squareRoot()
                    let xNorm = x.reduce(0) { $0 + $1 * $1 }.squareRoot()
                    let relativeDecrease = (cost - cost2) / Swift.max(cost, 1e-300)
                    x = candidate; r = r2; J = J2; cost = cost2
                    lambda = Swift.max(lambda / 10, 1e-12)
                    accepted = true
                    if relativeDecrease < ftol || stepNorm < xtol * (xNorm + xtol) { return x }
                    break
                }
                lambda *= 10
            }
            if !accepted { break }  // no step lowers the cost: a (local) minimum to machine precision
        }
        guard x.allSatisfy(\.isFinite) else { throw Failure(description: "bounded least squares: the solution is not finite") }
        return x
    }

    /// Gaussian elimination with partial pivoting; nil when the matrix is singular.
    static func solveLinear(_ A: [[Double]], _ b: [Double]) -> [Double]? {
        let n = b.count
        var m = A, v = b
        for c in 0..<n {
            guard let p = (c..<n).max(by: { Swift.abs(m[$0][c]) < Swift.abs(m[$1][c]) }), Swift.abs(m[p][c]) > 1e-300 else { return nil }
            m.swapAt(c, p); v.swapAt(c, p)
            for r in (c + 1)..<n where m[r][c] != 0 {
                let f = m[r][c] / m[c][c]
                for k in c..<n { m[r][k] -= f * m[c][k] }
                v[r] -= f * v[c]
            }
        }
        var x = [Double](repeating: 0, count: n)
        for r in stride(from: n - 1, through: 0, by: -1) {
            var s = v[r]
            for k in (r + 1)..<n { s -= m[r][k] * x[k] }
            x[r] = s / m[r][r]
        }
        return x.allSatisfy(\.isFinite) ? x : nil
    }
}
