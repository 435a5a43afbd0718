import XCTest
@testable import Torch

/// Values against numpy fixtures (scripts/fixtures/make_torch_fixtures.py), gradients against
/// central finite differences in float64.
final class NeuralFunctionTests: XCTestCase {
    func testConvolutionMatchesNumpy() throws {
        let x = try fixture("conv_x"), w = try fixture("conv_w"), b = try fixture("conv_b")
        try assertClose(try x.conv(weight: w, bias: b, padding: [1]), try fixture("conv_y_s1p1"), atol: 1e-10)
        try assertClose(try x.conv(weight: w, bias: b, stride: [2], dilation: [2]), try fixture("conv_y_s2p0d2"), atol: 1e-10)
        let wt = try fixture("convt_w"), bt = try fixture("convt_b")
        try assertClose(try x.convTransposed(weight: wt, bias: bt, stride: [2], padding: [1]), try fixture("convt_y_s2p1"), atol: 1e-10)
    }

    func testConv1dAnd3dAnalytic() throws {
        // A [1, 1, 1] kernel of ones over [0, 1, 2, 3, 4] with padding 1: window sums.
        let x = try Tensor.arange(0, 5, dtype: .float32).reshape([1, 1, 5])
        XCTAssertEqual(try x.conv(weight: Tensor.ones([1, 1, 3]), padding: [1]).floats(), [1, 3, 6, 9, 7])
        let v = try Tensor.ones([1, 2, 3, 3, 3])
        let y = try v.conv(weight: Tensor.ones([1, 2, 3, 3, 3]))
        XCTAssertEqual(try y.floats(), [54])
    }

    func testPoolingInterpolationSoftmaxMatchNumpy() throws {
        let x = try fixture("conv_x")
        try assertClose(try x.maxPool(kernel: [3], stride: [2], padding: [1]), try fixture("maxpool_y_k3s2p1"), atol: 1e-12)
        try assertClose(try x.interpolate(size: [10, 9], mode: .linear), try fixture("bilinear_y_10x9"), atol: 1e-10)
        try assertClose(try x.softmax(dim: 1), try fixture("softmax_y"), atol: 1e-12)
        try assertClose(try x.logSoftmax(dim: 1).exp(), try fixture("softmax_y"), atol: 1e-12)
    }

    func testPoolingAndResizeAnalytic() throws {
        let x = try Tensor.arange(0, 16, dtype: .float32).reshape([1, 1, 4, 4])
        XCTAssertEqual(try x.maxPool(kernel: [2]).floats(), [5, 7, 13, 15])
        XCTAssertEqual(try x.avgPool(kernel: [2]).floats(), [2.5, 4.5, 10.5, 12.5])
        XCTAssertEqual(try x.adaptiveAvgPool(outputSize: [1]).floats(), [7.5])
        XCTAssertEqual(try x.adaptiveMaxPool(outputSize: [2]).floats(), [5, 7, 13, 15])
        XCTAssertEqual(try x.interpolate(scale: [0.5]).floats(), [0, 2, 8, 10])
        XCTAssertEqual(try x.interpolate(size: [8, 8]).shape, [1, 1, 8, 8])
        let v = try Tensor.arange(0, 8, dtype: .float32).reshape([1, 1, 2, 2, 2])
        XCTAssertEqual(try v.maxPool(kernel: [2]).floats(), [7])
        XCTAssertEqual(try v.interpolate(size: [4, 4, 4], mode: .linear).shape, [1, 1, 4, 4, 4])
        // Average pooling counts the zero padding by default (count_include_pad=True).
        let ones = try Tensor.ones([1, 1, 2, 2])
        XCTAssertEqual(try ones.avgPool(kernel: [3], stride: [1], padding: [1]).floats(), [4.0 / 9, 4.0 / 9, 4.0 / 9, 4.0 / 9])
        XCTAssertEqual(try ones.avgPool(kernel: [3], stride: [1], padding: [1], countIncludePad: false).floats(), [1, 1, 1, 1])
    }

    func testPadModes() throws {
        let x = try Tensor([1, 2, 3] as [Float], shape: [1, 1, 3])
        XCTAssertEqual(try x.pad([1, 2]).floats(), [0, 1, 2, 3, 0, 0])
        XCTAssertEqual(try x.pad([1, 1], value: -1).floats(), [-1, 1, 2, 3, -1])
        XCTAssertEqual(try x.pad([2, 1], mode: .reflect).floats(), [3, 2, 1, 2, 3, 2])
        XCTAssertEqual(try x.pad([1, 1], mode: .replicate).floats(), [1, 1, 2, 3, 3])
        XCTAssertEqual(try x.pad([1, 1], mode: .circular).floats(), [3, 1, 2, 3, 1])
    }

    func testNormalisationAnalytic() throws {
        let x = try Tensor([1, 3, 5, 7] as [Double], shape: [1, 1, 2, 2])
        // mean 4, population variance 5: (x − 4)/√(5 + eps)
        let expected = [1.0, 3, 5, 7].map { ($0 - 4) / (5 + 1e-5).squareRoot() }
        assertClose(try x.instanceNorm(weight: nil, bias: nil).doubles(), expected, tol: 1e-12)
        assertClose(try x.groupNorm(groups: 1, weight: nil, bias: nil).doubles(), expected, tol: 1e-12)
        assertClose(try x.layerNorm(normalizedShape: [2, 2], weight: nil, bias: nil).doubles(), expected, tol: 1e-12)
        let rm = try Tensor.zeros([1], dtype: .float64), rv = try Tensor.ones([1], dtype: .float64)
        assertClose(try x.batchNorm(runningMean: rm, runningVar: rv, weight: nil, bias: nil, training: true).doubles(), expected, tol: 1e-12)
        // Running stats updated in place with momentum 0.1 and the unbiased variance (20/3).
        assertClose(try rm.doubles(), [0.4], tol: 1e-12)
        assertClose(try rv.doubles(), [0.9 + 0.1 * 20.0 / 3], tol: 1e-12)
        assertClose(try x.batchNorm(runningMean: rm, runningVar: rv, weight: nil, bias: nil, training: false).doubles(),
                    [1.0, 3, 5, 7].map { ($0 - 0.4) / (0.9 + 2.0 / 3 + 1e-5).squareRoot() }, tol: 1e-12)
    }

    func testDropout() throws {
        let x = try Tensor.ones([10_000])
        XCTAssertEqual(try x.dropout(p: 0.5, training: false).floats(), try x.floats())
        let y = try x.dropout(p: 0.5, training: true).floats()
        XCTAssertTrue(y.allSatisfy { $0 == 0 || $0 == 2 })
        let kept = y.filter { $0 == 2 }.count
        XCTAssertTrue((4_700...5_300).contains(kept), "\(kept)")
    }

    func testCrossEntropyAnalytic() throws {
        // Logits [0, ln 3] → p = [1/4, 3/4]; CE for class 1 = −ln(3/4), for class 0 = ln 4.
        let logits = try Tensor([0, Foundation.log(3.0), 0, Foundation.log(3.0)] as [Double], shape: [2, 2])
        let target = try Tensor([1, 0] as [Int64])
        assertClose([try logits.crossEntropy(target: target).item()], [(-Foundation.log(0.75) + Foundation.log(4)) / 2], tol: 1e-12)
        assertClose(try logits.crossEntropy(target: target, reduction: .none).doubles(), [-Foundation.log(0.75), Foundation.log(4)], tol: 1e-12)
        let bce = try Tensor([0] as [Double]).binaryCrossEntropyWithLogits(target: Tensor([1] as [Double]))
        assertClose([try bce.item()], [Foundation.log(2)], tol: 1e-12)
    }

    func testLinearAndMatmul() throws {
        let x = try Tensor([1, 2] as [Float], shape: [1, 2])
        let w = try Tensor([1, 0, 1, 1, 2, -1] as [Float], shape: [3, 2])
        XCTAssertEqual(try x.linear(weight: w, bias: Tensor([0, 1, 2] as [Float])).floats(), [1, 4, 2])
        XCTAssertEqual(try x.matmul(w.transposed(0, 1)).floats(), [1, 3, 0])
    }

    // MARK: Gradients by finite differences

    func testConvGradients() throws {
        let g = try Generator(seed: 3)
        let w = try Tensor.randn([2, 2, 3, 3], dtype: .float64, generator: g)
        try checkGradient(shape: [1, 2, 5, 4]) { try $0.conv(weight: w, padding: [1], dilation: [1]) }
        let wt = try Tensor.randn([2, 3, 3, 3], dtype: .float64, generator: g)
        try checkGradient(shape: [1, 2, 3, 3]) { try $0.convTransposed(weight: wt, stride: [2], padding: [1]) }
        let w3 = try Tensor.randn([1, 1, 2, 2, 2], dtype: .float64, generator: g)
        try checkGradient(shape: [1, 1, 3, 3, 3]) { try $0.conv(weight: w3) }
    }

    func testPoolingGradients() throws {
        try checkGradient(shape: [1, 2, 5, 5]) { try $0.maxPool(kernel: [3], stride: [2], padding: [1]) }
        try checkGradient(shape: [1, 2, 5, 5]) { try $0.avgPool(kernel: [3], stride: [1], padding: [1]) }
        try checkGradient(shape: [1, 1, 4, 4, 4]) { try $0.maxPool(kernel: [2]) }
        try checkGradient(shape: [1, 2, 5, 3]) { try $0.adaptiveAvgPool(outputSize: [2, 2]) }
    }

    func testInterpolationGradients() throws {
        try checkGradient(shape: [1, 2, 3, 4]) { try $0.interpolate(size: [7, 5], mode: .linear) }
        try checkGradient(shape: [1, 1, 3, 3]) { try $0.interpolate(size: [6, 6], mode: .linear, alignCorners: true) }
        try checkGradient(shape: [1, 1, 2, 3, 2]) { try $0.interpolate(size: [4, 4, 4], mode: .linear) }
    }

    func testSoftmaxAndNormGradients() throws {
        try checkGradient(shape: [2, 4, 3]) { try $0.softmax(dim: 1) }
        try checkGradient(shape: [2, 4, 3]) { try $0.logSoftmax(dim: 1) }
        try checkGradient(shape: [2, 4, 3, 3]) { try $0.groupNorm(groups: 2, weight: nil, bias: nil) }
        try checkGradient(shape: [3, 5]) { try $0.gelu() }
    }
}
