import ArgumentParser
@testable import ContourCLI
import Foundation
import Torch
import XCTest

/// `contour loss` on a group: one value per member objective and their sum.
final class LossCommandTests: XCTestCase {
    var dir: String!

    override func setUpWithError() throws {
        dir = NSTemporaryDirectory() + "contour-loss-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: dir) }

    func loss(_ args: [String]) throws -> String {
        let command = try Contour.parseAsRoot(["loss"] + args)
        return try XCTUnwrap(command as? LossCommand).output()
    }

    func testHadwigerPrintsEachObjectiveAndTheSum() throws {
        let g = try Generator(seed: 3)
        let logits = try Tensor.randn([1, 2, 20, 20], dtype: .float64, generator: g)
        let labels = try Tensor((0..<400).map { i -> Int64 in
            let y = i / 20, x = i % 20
            return (y - 9) * (y - 9) + (x - 10) * (x - 10) <= 25 ? 1 : 0
        }, shape: [1, 1, 20, 20])
        try logits.saveNPY("\(dir!)/x.npy")
        try labels.saveNPY("\(dir!)/y.npy")
        let args = ["--logits", "\(dir!)/x.npy", "--target", "\(dir!)/y.npy"]
        let out = try loss(["hadwiger"] + args + ["--options", "{\"deltas\": [4, 8]}", "--json", "--gradient", "\(dir!)/g.npy"])
        let o = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any])
        let members = try XCTUnwrap(o["objectives"] as? [[String: Any]])
        XCTAssertEqual(members.map { $0["name"] as? String }, ["cedice", "hadwiger-area", "hadwiger-perimeter", "hadwiger-euler"])
        let values = members.compactMap { $0["loss"] as? Double }
        XCTAssertEqual(try XCTUnwrap(o["loss"] as? Double), values.reduce(0, +), accuracy: 1e-9)
        // Each member equals the same objective evaluated on its own.
        for (name, value) in zip(["hadwiger-euler", "cedice"], [values[3], values[0]]) {
            let single = try loss([name] + args + (name == "cedice" ? [] : ["--options", "{\"deltas\": [4, 8]}"]) + ["--json"])
            let s = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(single.utf8)) as? [String: Any])
            XCTAssertEqual(try XCTUnwrap(s["loss"] as? Double), value, accuracy: 1e-12, name)
        }
        XCTAssertEqual(try Tensor.loadNPY("\(dir!)/g.npy").shape, [1, 2, 20, 20])
        let text = try loss(["hadwiger"] + args + ["--options", "{\"priors\": [\"area\"]}"])
        XCTAssertEqual(text.split(separator: "\n").map { String($0.split(separator: ":")[0]) }, ["cedice", "hadwiger-area", "sum"])
        XCTAssertTrue(try loss(["--list"]).contains("hadwiger "))
    }
}
