import Foundation
import XCTest
import Torch
@testable import Objectives

/// Every case of scripts/fixtures/make_objectives_fixtures.py: value and d loss/d logits from
/// MONAI / PyTorch / NumPy-SciPy-skimage implementations of METHODS, to 1e-5 relative.
final class FixtureParityTests: XCTestCase {
    struct Case: Decodable {
        let name: String
        let loss: String
        let options: [String: OptionValue]
        let input: String
    }

    func testAllFixtureCases() throws {
        let data = try Data(contentsOf: fixtureURL("cases", "json"))
        let cases = try JSONDecoder().decode([Case].self, from: data)
        XCTAssertGreaterThanOrEqual(cases.count, 40)
        for c in cases {
            let objective = try ObjectiveRegistry.make(c.loss, options: c.options)
            let target = try LossTarget(labels: fixture("\(c.input)_labels"))
            let (value, grad) = try lossAndGradient(objective, logits: fixture("\(c.input)_logits"), target: target)
            let expected = try fixture("\(c.name)_loss").item()
            XCTAssertLessThanOrEqual(Swift.abs(value - expected), 1e-10 + 1e-5 * Swift.abs(expected),
                                     "\(c.name): loss \(value) vs \(expected)")
            try assertClose(grad, fixture("\(c.name)_grad"), atol: 1e-10, rtol: 1e-5, "\(c.name) gradient")
        }
    }

    func testMapsMatchSciPyAndSkimage() throws {
        let x2d = try LossTarget(labels: fixture("x2d_labels"))
        let logits = try fixture("x2d_logits")
        try assertClose(RegionMap.rrw(.clean).tensor(for: x2d, logits: logits), fixture("map_rrw_x2d"), "rrw map")
        try assertClose(RegionMap.boundary(.kervadec).tensor(for: x2d, logits: logits), fixture("map_boundary_x2d"), "boundary map")
        try assertClose(RegionMap.skeletonTube.tensor(for: x2d, logits: logits), fixture("map_tube_x2d"), "skeleton tube")
        let empty = try LossTarget(labels: fixture("xempty_labels"))
        try assertClose(RegionMap.rrw(.parity).tensor(for: empty, logits: fixture("xempty_logits")),
                        fixture("map_rrw_xempty_parity"), "rrw parity map of an empty case")
    }

    func testOneHotTargetGivesTheSameAsLabels() throws {
        let logits = try fixture("x2d_logits")
        let labelTarget = try LossTarget(labels: fixture("x2d_labels"))
        let dense = try LossTarget(dense: labelTarget.denseTarget(for: logits))
        for name in ["ce", "dice", "cedice", "focal", "scnp", "rrw"] {
            let o = try ObjectiveRegistry.make(name)
            assertClose(try o(logits: logits, target: labelTarget).item(), try o(logits: logits, target: dense).item(),
                        tol: 1e-12, name)
        }
    }
}
