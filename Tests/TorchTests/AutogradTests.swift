import XCTest
@testable import Torch

final class AutogradTests: XCTestCase {
    func testBackwardAccumulatesAndClears() throws {
        let x = try Tensor([1, 2, 3] as [Double]).requiringGrad()
        XCTAssertTrue(x.requiresGrad)
        XCTAssertTrue(x.isLeaf)
        try (x * x).sum().backward()
        XCTAssertEqual(try x.grad?.doubles(), [2, 4, 6])
        try (x * 3).sum().backward()  // accumulates, as in PyTorch
        XCTAssertEqual(try x.grad?.doubles(), [5, 7, 9])
        try x.setGrad(nil)
        XCTAssertNil(x.grad)
    }

    func testPerObjectiveGradientsWithRetainedGraph() throws {
        let w = try Tensor([1, -2] as [Double]).requiringGrad()
        let h = try (w * w).sum()           // shared forward
        let l1 = h * 2, l2 = try (w * h).sum()
        let g = try gradients(of: [l1], with: [w], retainGraph: true)
        XCTAssertEqual(try g[0]?.doubles(), [4, -8])
        // d/dw (Σw · Σw²) = Σw² + Σw · 2w = 5 + (−1)·[2, −4]
        let g2 = try gradients(of: l2, with: [w])
        XCTAssertEqual(try g2[0]?.doubles(), [3, 9])
        XCTAssertNil(w.grad, "gradients(of:with:) must not touch .grad")
        // The graph was freed by the last call: reusing it is a Swift error, not a crash.
        XCTAssertThrowsError(try gradients(of: l1, with: [w]))
    }

    func testUnusedInputsAndCreateGraph() throws {
        let a = try Tensor([2] as [Double]).requiringGrad(), b = try Tensor([5] as [Double]).requiringGrad()
        XCTAssertThrowsError(try gradients(of: a * 3, with: [a, b]))
        let g = try gradients(of: a * 3, with: [a, b], allowUnused: true)
        XCTAssertEqual(try g[0]?.doubles(), [3])
        XCTAssertNil(g[1])
        // Second derivative of a³ at 2 is 6a = 12.
        let first = try gradients(of: a * a * a, with: [a], createGraph: true)[0]!
        XCTAssertEqual(try gradients(of: first, with: [a])[0]?.doubles(), [12])
    }

    func testWithoutGradientsAndDetach() throws {
        let x = try Tensor([1] as [Double]).requiringGrad()
        let y = withoutGradients { x * 2 }
        XCTAssertFalse(y.requiresGrad)
        XCTAssertTrue(Torch.isGradEnabled)
        XCTAssertFalse(try (x * 2).detached().requiresGrad)
        XCTAssertTrue((x * 2).requiresGrad)
    }

    func testInPlaceUpdatesKeepIdentity() throws {
        let p = try Tensor([1, 1] as [Double]).requiringGrad()
        let alias = p
        try withoutGradients {
            try p.addInPlace(try Tensor([1, 2] as [Double]), alpha: -0.5)
            try p.mulInPlace(2)
        }
        XCTAssertEqual(try alias.doubles(), [1, 0])
        XCTAssertTrue(alias.isSameTensor(as: p))
        try withoutGradients { try p.setData(try Tensor([7, 8] as [Double])) }
        XCTAssertEqual(try alias.doubles(), [7, 8])
        XCTAssertTrue(p.requiresGrad)
    }

    func testConcurrentGraphs() async throws {
        // 16 independent autograd graphs at once give their own exact gradients.
        let results = try await withThrowingTaskGroup(of: (Int, [Double]).self) { group in
            for k in 0..<16 {
                group.addTask {
                    let x = try Tensor([Double(k), 1] as [Double]).requiringGrad()
                    let g = try gradients(of: (x * x * Double(k)).sum(), with: [x])
                    return (k, try g[0]!.doubles())
                }
            }
            var out: [Int: [Double]] = [:]
            for try await (k, g) in group { out[k] = g }
            return out
        }
        for k in 0..<16 { XCTAssertEqual(results[k], [2.0 * Double(k * k), 2.0 * Double(k)]) }
    }
}

final class AutocastTests: XCTestCase {
    func testAutocastRunsConvolutionInBFloat16AndRestores() throws {
        let x = try Tensor.randn([1, 2, 8, 8]), w = try Tensor.randn([3, 2, 3, 3])
        let y = try withAutocast(device: .cpu, dtype: .bfloat16) { try x.conv(weight: w, padding: [1]) }
        XCTAssertEqual(y.dtype, .bfloat16)
        // Close to the float32 result (bfloat16 keeps ~3 significant digits).
        let exact = try x.conv(weight: w, padding: [1])
        XCTAssertEqual(exact.dtype, .float32)
        let err = try (y.to(.float32) - exact).abs().max().item(), scale = try exact.abs().max().item()
        XCTAssertLessThan(err, 0.02 * scale)
        // Gradients flow back to float32 leaves.
        let leaf = try w.clone().requiringGrad()
        let loss = try withAutocast(device: .cpu) { try x.conv(weight: leaf, padding: [1]).to(.float32).sum() }
        try loss.backward()
        XCTAssertEqual(leaf.grad?.dtype, .float32)
        XCTAssertThrowsError(try withAutocast(device: .cpu, dtype: .float64) { 0 })
    }
}
