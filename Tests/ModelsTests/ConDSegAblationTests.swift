import Foundation
import XCTest
@testable import Models
import NeuralNet
import Torch

/// The `condseg` options `sid: false` / `cdfa: false` (the paper's module ablations) against
/// scripts/fixtures/make_condseg_ablation_fixtures.py: the official ConDSeg class in PyTorch with
/// the same modules deleted or replaced, formula weights, resnet18 at 64².
final class ConDSegAblationTests: XCTestCase {
    static let reference: [String: Tensor] = {
        let file = try! Safetensors.load(try! ConDSegTests.fixture("condseg_ablation.safetensors"))
        return Dictionary(uniqueKeysWithValues: file.tensors.map { ($0.name, $0.tensor) })
    }()

    static let variants: [(name: String, sid: Bool, cdfa: Bool)] = [("nosid", false, true), ("nocdfa", true, false), ("nosid_nocdfa", false, false)]

    func keys(_ m: Module) -> [String] { m.stateDict().map { "\($0.name) \($0.tensor.shape)" } }

    func referenceKeys(_ variant: String) throws -> [String] {
        let bytes = try Self.reference["\(variant).keys"]!.to(.int64).ints().map { UInt8($0) }
        let list = try JSONSerialization.jsonObject(with: Data(bytes)) as! [[Any]]
        return list.map { "\($0[0] as! String) \($0[1] as! [Int])" }
    }

    func testKeysAreThePublishedOnesLessTheRemovedBlocks() throws {
        let full = try ConDSeg(encoder: .resnet18)
        let published = keys(full)
        XCTAssertTrue(full.sid && full.cdfa)
        let sidBlocks = ["decouple_layer.", "aux_head."]
        let cdfaBlocks = ["preprocess_fg", "preprocess_bg", "cdfa1.", "cdfa2.", "cdfa3.", "cdfa4."]
        func without(_ prefixes: [String]) -> [String] { published.filter { k in !prefixes.contains { k.hasPrefix($0) } } }
        // Each fusion block is its CDFA's input/output convolutions: the same keys under fuseN.
        let fusion = (1...4).reversed().flatMap { i in
            published.filter { $0.hasPrefix("cdfa\(i).input_cbr.") || $0.hasPrefix("cdfa\(i).output_cbr.") }
                .map { "fuse\(i)." + $0.dropFirst("cdfa\(i).".count) }
        }
        XCTAssertEqual(fusion.count, 96)
        for v in Self.variants {
            let model = try ConDSeg(encoder: .resnet18, sid: v.sid, cdfa: v.cdfa)
            let expected = without((v.sid ? [] : sidBlocks) + (v.cdfa ? [] : cdfaBlocks)) + (v.cdfa ? [] : fusion)
            XCTAssertEqual(keys(model), expected, v.name)
            XCTAssertEqual(keys(model), try referenceKeys(v.name), "\(v.name) against PyTorch")
        }
        // What goes: SID = 150 tensors (3 branches × 3 CBRs + 3 aux heads); CDFA = 8 preprocessors + 4 × (v, attn_fg, attn_bg, proj).
        XCTAssertEqual(published.count - keys(try ConDSeg(encoder: .resnet18, sid: false)).count, 150)
        let removed = Set(published).subtracting(keys(try ConDSeg(encoder: .resnet18, cdfa: false)))
        XCTAssertEqual(removed.filter { $0.hasPrefix("cdfa") && !$0.contains("_cbr.") }.count, 32)
        XCTAssertEqual(removed.filter { $0.hasPrefix("cdfa") && $0.contains("_cbr.") }.count, 96)
    }

    func testAblatedModelsMatchPyTorchAt64() throws {
        let x = try Self.reference["input"]!.to(.float64)
        for v in Self.variants {
            let model = try ConDSeg(encoder: .resnet18, sid: v.sid, cdfa: v.cdfa)
            try ConDSegTests.formulaInit(model)
            try model.to(.cpu, dtype: .float64)
            for mode in ["eval", "train"] {
                model.train(mode == "train")
                let heads = try withoutGradients { try model.heads(x) }
                XCTAssertEqual(heads.names, v.sid ? [Heads.segmentation, Heads.foreground, Heads.background, Heads.uncertainty] : [Heads.segmentation])
                XCTAssertEqual(heads.names, model.headSpecs.map(\.name))
                for name in heads.names {
                    let ours = heads[name]!, theirs = Self.reference["\(v.name).\(mode).\(name)"]!
                    XCTAssertEqual(ours.shape, [2, 1, 64, 64])
                    XCTAssertEqual(ours.shape, theirs.shape)
                    let err = try (ours - theirs.to(.float64)).abs().max().item() / Swift.max(try theirs.to(.float64).abs().max().item(), 1e-12)
                    XCTAssertLessThanOrEqual(err, 1e-4, "\(v.name) \(mode) \(name)")
                }
            }
        }
    }

    func testRegistryOptions() throws {
        func make(_ json: String, _ name: String = "condseg") throws -> any SegmentationModel {
            try ModelRegistry.make(name, options: try Options(json: json, for: name), inChannels: 3, classes: 2)
        }
        for (json, heads) in [("{\"encoder\": \"resnet18\", \"sid\": false}", ["segmentation"]),
                              ("{\"encoder\": \"resnet18\", \"cdfa\": false}", ["segmentation", "foreground", "background", "uncertainty"]),
                              ("{\"encoder\": \"resnet18\", \"sid\": false, \"cdfa\": false}", ["segmentation"]),
                              ("{\"encoder\": \"resnet18\", \"sid\": true, \"cdfa\": true}", ["segmentation", "foreground", "background", "uncertainty"])] {
            let m = try make(json)
            XCTAssertEqual(m.headSpecs.map(\.name), heads, json)
            let out = try withoutGradients { try m.heads(try Tensor.rand([1, 3, 32, 48])) }
            XCTAssertEqual(out.names, heads, json)
            for name in out.names { XCTAssertEqual(out[name]!.shape, [1, 1, 32, 48], "\(json) \(name)") }
        }
        let c = try XCTUnwrap(try make("{\"encoder\": \"resnet18\", \"sid\": false}") as? ConDSeg)
        XCTAssertFalse(c.sid)
        XCTAssertTrue(c.cdfa)
        XCTAssertThrowsError(try make("{\"sid\": \"no\"}")) { XCTAssertTrue("\($0)".contains("'sid'") && "\($0)".contains("true or false"), "\($0)") }
        XCTAssertThrowsError(try make("{\"cdfa\": 0}")) { XCTAssertTrue("\($0)".contains("'cdfa'"), "\($0)") }
        // Stage 1 has neither module: the switches are unknown options there.
        XCTAssertThrowsError(try make("{\"sid\": false}", "condseg-stage1")) { XCTAssertTrue("\($0)".contains("unknown option 'sid'"), "\($0)") }
    }

    /// Which blocks the mask depends on: without CDFA the decoupled features feed only the
    /// auxiliary heads; without SID the CDFA guides (preprocessors, attention) come from d4.
    func testTheMaskDependsOnTheGuidesOnlyThroughCDFA() throws {
        func gradients(_ m: ConDSeg, head: String) throws -> [String: Double] {
            try m.zeroGrad()
            let h = try m.heads(try Tensor.rand([2, 3, 32, 32]))
            try (try h[head]!.square().mean()).backward()
            return Dictionary(uniqueKeysWithValues: try m.namedParameters().map { ($0.name, try $0.tensor.grad.map { try $0.abs().sum().item() } ?? 0) })
        }
        try Torch.manualSeed(1)
        let noCdfa = try ConDSeg(encoder: .resnet18, cdfa: false)
        let g = try gradients(noCdfa, head: Heads.segmentation)
        XCTAssertEqual(g.filter { $0.key.hasPrefix("decouple_layer.") || $0.key.hasPrefix("aux_head.") }.values.max(), 0, "the mask does not see SID without CDFA")
        XCTAssertGreaterThan(g["fuse1.input_cbr.0.conv.0.weight"]!, 0)
        XCTAssertGreaterThan(g["layer0.0.weight"]!, 0)
        XCTAssertGreaterThan(try gradients(noCdfa, head: Heads.foreground)["decouple_layer.cbr_fg.0.conv.0.weight"]!, 0)
        let noSid = try ConDSeg(encoder: .resnet18, sid: false)
        let s = try gradients(noSid, head: Heads.segmentation)
        for key in ["preprocess_fg1.c1.conv.0.weight", "preprocess_bg4.c1.conv.0.weight", "cdfa1.attn_fg.weight", "cdfa4.attn_bg.weight", "dconv4.c1.0.conv.0.weight"] {
            XCTAssertGreaterThan(s[key]!, 0, key)
        }
    }
}
