import Foundation
import XCTest
@testable import Models
import NeuralNet
import Torch

/// ConDSeg and ResNet against scripts/fixtures/make_condseg_fixtures.py, which re-implements
/// torchvision's ResNet and the official ConDSeg modules in PyTorch.
final class ConDSegTests: XCTestCase {
    static func fixture(_ name: String) throws -> String {
        guard let url = Bundle.module.url(forResource: name, withExtension: nil, subdirectory: "Fixtures") else {
            throw TorchError("missing fixture \(name); run scripts/fixtures/make_condseg_fixtures.py")
        }
        return url.path
    }

    static let blocks: [String: Tensor] = {
        let file = try! Safetensors.load(try! fixture("condseg_blocks.safetensors"))
        return Dictionary(uniqueKeysWithValues: file.tensors.map { ($0.name, $0.tensor) })
    }()

    /// The generator's `formula`: every floating state tensor from its key alone.
    static func formulaInit(_ model: Module) throws {
        try withoutGradients {
            for (key, t) in model.stateDict() where t.dtype.isFloatingPoint {
                let s = Double(key.utf8.enumerated().reduce(0) { $0 + ($1.offset + 1) * Int($1.element) } % 997) / 997
                let n = t.count
                let base = try (try Tensor.arange(0, Double(n), dtype: .float64) * 0.37 + s * 6.283185307179586).sin().reshape(t.shape)
                let v: Tensor
                if key.hasSuffix("running_var") { v = 1 + 0.25 * base }
                else if key.hasSuffix("running_mean") || key.hasSuffix("bias") { v = 0.05 * base }
                else if t.rank == 1 { v = 1 + 0.1 * base }
                else { v = base / (Double(n) / Double(t.shape[0])).squareRoot() }
                try t.copyInPlace(from: try v.to(t.dtype))
            }
        }
    }

    /// max |a − b| / max |b|.
    func assertClose(_ a: Tensor, _ b: Tensor, _ tol: Double = 1e-4, _ what: String, file: StaticString = #filePath, line: UInt = #line) throws {
        XCTAssertEqual(a.shape, b.shape, what, file: file, line: line)
        guard a.shape == b.shape else { return }
        let err = try (a.to(.float64) - b.to(.float64)).abs().max().item()
        let scale = Swift.max(try b.to(.float64).abs().max().item(), 1e-12)
        if ProcessInfo.processInfo.environment["CONDSEG_VERBOSE"] != nil { print("parity \(what): relative error \(err / scale)") }
        XCTAssertLessThanOrEqual(err / scale, tol, "\(what): max abs err \(err), scale \(scale)", file: file, line: line)
    }

    func load(_ module: Module, _ prefix: String) throws {
        var dict: [String: Tensor] = [:]
        for (k, v) in Self.blocks where k.hasPrefix(prefix + ".") { dict[String(k.dropFirst(prefix.count + 1))] = v }
        try module.loadStateDict(dict)
        module.eval()
    }

    func io(_ name: String, _ i: Int) -> Tensor { Self.blocks["io.\(name).in\(i)"]! }
    func expected(_ name: String) -> Tensor { Self.blocks["io.\(name).out"]! }

    // MARK: keys and shapes

    func testKeysAndShapesEqualTheOfficialClassesForEveryEncoder() throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: try Self.fixture("condseg_keys.json")))
        let json = try JSONSerialization.jsonObject(with: data) as! [String: Any]
        func listed(_ group: String, _ arch: String) -> [String] {
            ((json[group] as! [String: Any])[arch] as! [[Any]]).map { "\($0[0] as! String) \($0[1] as! [Int])" }
        }
        func ours(_ m: Module) -> [String] { m.stateDict().map { "\($0.name) \($0.tensor.shape)" } }
        for depth in ResNetDepth.allCases {
            let a = depth.rawValue
            let condseg = try ConDSeg(encoder: depth), stage1 = try ConDSegStage1(encoder: depth)
            // Same keys in the same order (state_dict order), same shapes.
            XCTAssertEqual(ours(condseg), listed("condseg", a), a)
            XCTAssertEqual(ours(stage1), listed("stage1", a), a)
            XCTAssertEqual(ours(try ResNet(depth, classes: 1000)), listed("resnet", a), a)
            let counts = (json["parameters"] as! [String: Any])[a] as! [String: Int]
            XCTAssertEqual(condseg.parameterCount, counts["condseg"], a)
            XCTAssertEqual(stage1.parameterCount, counts["stage1"], a)
        }
        // num_batches_tracked is an int64 buffer, as in PyTorch.
        let nbt = try ConDSeg(encoder: .resnet18).stateDict().first { $0.name == "layer0.1.num_batches_tracked" }!.tensor
        XCTAssertEqual(nbt.dtype, .int64)
    }

    // MARK: blocks with seeded random weights

    func testBlocksMatchTheOfficialModules() throws {
        let ca = try ChannelAttention(32)
        try load(ca, "ca")
        try assertClose(try ca(io("ca", 0)), expected("ca"), 1e-5, "channel attention")
        let sa = try SpatialAttention()
        try load(sa, "sa")
        try assertClose(try sa(io("sa", 0)), expected("sa"), 1e-5, "spatial attention")
        let fem = try FeatureEnhancement(8, 16)
        try load(fem, "fem")
        try assertClose(try fem(io("fem", 0)), expected("fem"), 1e-4, "FEM")
        let dec = try DecoupleLayer(12, 16, middle: 24)
        try load(dec, "decouple")
        let d = try dec(io("decouple", 0))
        try assertClose(try Tensor.cat([d.fg, d.bg, d.uc], dim: 1), expected("decouple"), 1e-4, "decouple layer")
        let pre = try CDFAPreprocess(16, 16, scale: 4)
        try load(pre, "pre")
        try assertClose(try pre(io("pre", 0)), expected("pre"), 1e-4, "CDFA preprocess")
        let block = try SizeAwareDecoderBlock(16, 16)
        try load(block, "dec")
        try assertClose(try block(io("dec", 0), skip: io("dec", 1)), expected("dec"), 1e-4, "decoder block")
        let out = try ConDSegOutputBlock(16)
        try load(out, "out")
        try assertClose(try out(small: io("out", 0), middle: io("out", 1), large: io("out", 2)).sigmoid(), expected("out"), 1e-4, "output block")
    }

    func testCDFAMatchesTheOfficialModule() throws {
        // The generator also checks this output against an explicit loop over windows (float64).
        let cdfa = try ContrastDrivenFeatureAggregation(24, dim: 16, heads: 4)
        try load(cdfa, "cdfa")
        try assertClose(try cdfa(io("cdfa", 0), fg: io("cdfa", 1), bg: io("cdfa", 2)), expected("cdfa"), 1e-4, "CDFA")
    }

    func testSlidingWindowsAndFoldAgainstLoops() throws {
        let (n, c, h, w, k, p) = (2, 3, 4, 5, 3, 1)
        let x = try Tensor.randn([n, c, h, w], dtype: .float64)
        let win = try x.slidingWindows(kernel: k, padding: p)
        XCTAssertEqual(win.shape, [n, c, k * k, h, w])
        let xv = try x.doubles(), wv = try win.doubles()
        func xi(_ b: Int, _ ch: Int, _ y: Int, _ xx: Int) -> Int { ((b * c + ch) * h + y) * w + xx }
        func wi(_ b: Int, _ ch: Int, _ j: Int, _ y: Int, _ xx: Int) -> Int { (((b * c + ch) * k * k + j) * h + y) * w + xx }
        // Fold of arbitrary slot values, by the definition Z(q) = Σ_{p, i: p + o_i = q} Y_p[i].
        let yv = try Tensor.randn([n, c, k * k, h, w], dtype: .float64)
        let folded = try yv.foldSlidingWindows(kernel: k, padding: p).doubles()
        let ys = try yv.doubles()
        var z = [Double](repeating: 0, count: n * c * h * w)
        for b in 0..<n { for ch in 0..<c { for y in 0..<h { for xx in 0..<w { for j in 0..<(k * k) {
            let sy = y + j / k - p, sx = xx + j % k - p
            let inside = sy >= 0 && sy < h && sx >= 0 && sx < w
            XCTAssertEqual(wv[wi(b, ch, j, y, xx)], inside ? xv[xi(b, ch, sy, sx)] : 0)
            if inside { z[xi(b, ch, sy, sx)] += ys[wi(b, ch, j, y, xx)] }
        } } } } }
        for (a, e) in zip(folded, z) { XCTAssertEqual(a, e, accuracy: 1e-12) }
    }

    // MARK: whole models, formula weights

    static let formula: [String: Tensor] = {
        let file = try! Safetensors.load(try! fixture("condseg_formula.safetensors"))
        return Dictionary(uniqueKeysWithValues: file.tensors.map { ($0.name, $0.tensor) })
    }()

    func checkFormula(_ ref: [String: Tensor], encoder: ResNetDepth, train: Bool) throws {
        // In float64: with these weights train-mode BN on 4×4 maps is ill-conditioned in float32.
        let x = try ref["input"]!.to(.float64)
        let model = try ConDSeg(encoder: encoder)
        try Self.formulaInit(model)
        try model.to(.cpu, dtype: .float64)
        for mode in train ? ["eval", "train"] : ["eval"] {
            model.train(mode == "train")
            let heads = try withoutGradients { try model.heads(x) }
            XCTAssertEqual(heads.names, [Heads.segmentation, Heads.foreground, Heads.background, Heads.uncertainty])
            for name in heads.names { try assertClose(heads[name]!, ref["condseg.\(mode).\(name)"]!, 1e-4, "condseg \(mode) \(name)") }
        }
        if train {
            try assertClose(model.stateDict().first { $0.name == "layer0.1.running_mean" }!.tensor,
                            ref["condseg.train.layer0.1.running_mean"]!, 1e-5, "running mean after a train-mode pass")
        }
        let stage1 = try ConDSegStage1(encoder: encoder)
        try Self.formulaInit(stage1)
        try stage1.to(.cpu, dtype: .float64)
        for mode in train ? ["eval", "train"] : ["eval"] {
            stage1.train(mode == "train")
            try assertClose(try withoutGradients { try stage1(x) }, ref["stage1.\(mode).segmentation"]!, 1e-4, "stage1 \(mode)")
        }
    }

    func testWholeModelsMatchTheOfficialClassesAt64() throws {
        try checkFormula(Self.formula, encoder: .resnet18, train: true)
    }

    /// Local only: CONDSEG_FORMULA=path CONDSEG_ENCODER=resnet50 with a file from
    /// `make_condseg_fixtures.py --formula 256 resnet50 path`.
    func testWholeModelAtAnotherSizeWhenAsked() throws {
        guard let path = ProcessInfo.processInfo.environment["CONDSEG_FORMULA"] else { throw XCTSkip("CONDSEG_FORMULA not set") }
        let encoder = ResNetDepth(rawValue: ProcessInfo.processInfo.environment["CONDSEG_ENCODER"] ?? "resnet50")!
        let file = try Safetensors.load(path)
        try checkFormula(Dictionary(uniqueKeysWithValues: file.tensors.map { ($0.name, $0.tensor) }), encoder: encoder, train: false)
    }

    func testResNetsMatchTorchvision() throws {
        let x = try Self.formula["input"]!.narrow(dim: 2, start: 0, length: 32).narrow(dim: 3, start: 0, length: 32)
        for depth in ResNetDepth.allCases {
            let net = try ResNet(depth, classes: 10)
            try Self.formulaInit(net)
            net.eval()
            try assertClose(try withoutGradients { try net(x) }, Self.formula["\(depth.rawValue).eval.logits"]!, 1e-4, depth.rawValue)
            // torchvision's ImageNet files predate num_batches_tracked; strict loading accepts that.
            let copy = try ResNet(depth, classes: 10)
            try copy.loadStateDict(Dictionary(uniqueKeysWithValues: net.stateDict().filter { !$0.name.hasSuffix("num_batches_tracked") }
                .map { ($0.name, $0.tensor) }))
            copy.eval()
            XCTAssertEqual(try copy(x).floats(), try net(x).floats(), depth.rawValue)
            let f = try net.features(x)
            XCTAssertEqual(f.map(\.shape), [[2, 64, 16, 16]] + zip(depth.featureChannels.dropFirst(), [8, 4, 2, 1]).map { [2, $0, $1, $1] })
        }
    }

    // MARK: bad input and registry

    func testBadInputsAreNamed() throws {
        let model = try ConDSeg(encoder: .resnet18)
        XCTAssertThrowsError(try model(try Tensor.zeros([1, 1, 64, 64]))) { XCTAssertTrue("\($0)".contains("3-channel"), "\($0)") }
        XCTAssertThrowsError(try model(try Tensor.zeros([1, 3, 72, 64]))) {
            XCTAssertTrue("\($0)".contains("input size 72 is not divisible by 16"), "\($0)")
        }
        XCTAssertThrowsError(try ConDSegStage1(encoder: .resnet18)(try Tensor.zeros([1, 3, 64, 40]))) { XCTAssertTrue("\($0)".contains("40"), "\($0)") }
        XCTAssertThrowsError(try ModelRegistry.make("condseg", options: Options(for: "condseg"), inChannels: 1, classes: 2)) {
            XCTAssertTrue("\($0)".contains("3-channel ResNet encoder") && "\($0)".contains("1 channel"), "\($0)")
        }
        XCTAssertThrowsError(try ModelRegistry.make("condseg", options: Options(for: "condseg"), inChannels: 3, classes: 4)) {
            XCTAssertTrue("\($0)".contains("one foreground label"), "\($0)")
        }
        XCTAssertThrowsError(try ModelRegistry.make("condseg", options: try Options(json: "{\"encoder\": \"resnet101\"}", for: "condseg"),
                                                    inChannels: 3, classes: 2)) { XCTAssertTrue("\($0)".contains("encoder"), "\($0)") }
        XCTAssertThrowsError(try ModelRegistry.make("condseg-stage1", options: try Options(json: "{\"size\": 100}", for: "condseg-stage1"),
                                                    inChannels: 3, classes: 2)) { XCTAssertTrue("\($0)".contains("multiple of 16"), "\($0)") }
    }

    func testRegistryBuildsConDSegWithFourHeads() throws {
        let m = try ModelRegistry.make("condseg", options: try Options(json: "{\"encoder\": \"resnet18\", \"size\": 64}", for: "condseg"),
                                       inChannels: 3, classes: 2)
        XCTAssertEqual(m.headSpecs.map(\.name), ["segmentation", "foreground", "background", "uncertainty"])
        XCTAssertEqual(m.sizeDivisor, 16)
        let heads = try m.heads(try Tensor.rand([1, 3, 32, 48]))
        for name in heads.names { XCTAssertEqual(heads[name]!.shape, [1, 1, 32, 48], name) }
        let s1 = try ModelRegistry.make("condseg-stage1", options: try Options(json: "{\"encoder\": \"resnet34\"}", for: "condseg-stage1"),
                                        inChannels: 3, classes: 2)
        XCTAssertEqual(try s1(try Tensor.rand([2, 3, 32, 32])).shape, [2, 1, 32, 32])
        XCTAssertEqual(s1.headSpecs.map(\.name), ["segmentation"])
    }

    func testGradientsReachTheEncoderAndEveryHead() throws {
        let m = try ConDSeg(encoder: .resnet18)
        let heads = try m.heads(try Tensor.rand([2, 3, 32, 32]))
        let loss = try heads.names.map { try heads[$0]!.mean() }.reduce(try Tensor.zeros([]), +)
        try loss.backward()
        for key in ["layer0.0.weight", "cdfa1.attn_bg.weight", "aux_head.branch_uc.9.weight", "output_block.c3.bias"] {
            let p = m.namedParameters().first { $0.name == key }!.tensor
            XCTAssertGreaterThan(try p.grad!.abs().sum().item(), 0, key)
        }
    }
}
