@testable import ContourCLI
import Foundation
import NeuralNet
import Training
import XCTest

/// `contour bench engine`'s unet rows: the PyTorch reference architecture
/// (benchmarks/unet_reference.py) has exactly the state-dict keys, order and shapes of the
/// networks the bench builds, so it loads Contour's weights strictly and both sides train the same
/// network. Fixture: scripts/fixtures/make_bench_unet_fixtures.py (the reference's own
/// `state_dict()`). Nothing is timed.
final class BenchUNetKeysTests: XCTestCase {
    let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/bench_unet_keys.json")

    func testReferenceKeysAndShapesEqualContours() throws {
        let root = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: fixture)) as? [String: Any])
        let demo = try EngineBench.demoConfig()
        let rows = EngineBench.models.filter { $0.name != "tinyunet" }
        XCTAssertEqual(Set(rows.map(\.name)), Set(root.keys))
        for m in rows {
            let entry = try XCTUnwrap(root[m.name] as? [String: Any], m.name)
            let (net, _) = try EngineBench.makeUNet(m.name, demo: demo)
            XCTAssertEqual(net.spatialDims, entry["spatial_dims"] as? Int, m.name)
            XCTAssertEqual(m.spatialDims, net.spatialDims, m.name)
            // The fixture was written for these options (the demo's for unet2d): the bench still builds them.
            let written = try XCTUnwrap(entry["options"] as? [String: Any], m.name)
            let given = try XCTUnwrap(try JSONSerialization.jsonObject(with: JSONEncoder().encode(m.name == demo.model.name ? demo.model.options : [:]))
                as? [String: Any])
            XCTAssertEqual(NSDictionary(dictionary: written), NSDictionary(dictionary: given), "\(m.name): the demo's model options changed; rerun the fixture script")
            let theirs = try XCTUnwrap(entry["keys"] as? [[Any]], m.name).map { pair in
                "\(pair[0]) \((pair[1] as? [Int]) ?? [])"
            }
            let ours = net.stateDict().map { "\($0.name) \($0.tensor.shape)" }
            XCTAssertEqual(ours, theirs, m.name)
        }
    }

    /// `--model` and a size the model cannot take are named in the error (nothing is timed).
    func testBadModelOptionsAreNamed() throws {
        XCTAssertThrowsError(try EngineBench.parse(["--model", "unet2d,foo", "--python", "none"]).selectedModels()) {
            XCTAssertTrue("\($0)".contains("--model: 'foo' is not benchmarked"), "\($0)")
        }
        XCTAssertEqual(try EngineBench.parse(["--model", "all"]).selectedModels().map(\.name), ["tinyunet", "unet2d", "unet3d"])
        XCTAssertEqual(try EngineBench.parse(["--model", "unet3d, unet2d"]).selectedModels().map(\.name), ["unet2d", "unet3d"])
        XCTAssertThrowsError(try EngineBench.parse(["--model", "unet3d", "--size", "24", "--ops", "1", "--rounds", "2", "--warmup", "0",
                                                    "--python", "none"]).measure()) {
            XCTAssertTrue("\($0)".contains("--size 24: unet3d needs a side divisible by 16"), "\($0)")
        }
    }
}
