import Foundation
import XCTest
import NeuralNet
import Torch

/// The README's Swift API example, verbatim, so it keeps compiling and running.
final class ReadmeExampleTests: XCTestCase {
    func testReadmeExample() throws {
        let cwd = FileManager.default.currentDirectoryPath
        let dir = NSTemporaryDirectory() + "contour-readme-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        FileManager.default.changeCurrentDirectoryPath(dir)
        defer {
            FileManager.default.changeCurrentDirectoryPath(cwd)
            try? FileManager.default.removeItem(atPath: dir)
        }

        let x = try Tensor.randn([8, 1, 64, 64])
        let net = try Sequential(Conv2d(1, 16, kernelSize: 3, padding: 1), BatchNorm2d(16), ReLU(),
                                 Conv2d(16, 2, kernelSize: 1))
        let opt = try Adam(net.parameters(), learningRate: 1e-3)
        let loss = try net(x).crossEntropy(target: Tensor.randint(0, 2, [8, 64, 64]))
        try loss.backward()
        try opt.step()
        try net.save(to: "model.safetensors")        // atomic; PyTorch-compatible keys ("0.weight", …)

        let keys = try Safetensors.load("\(dir)/model.safetensors").tensors.map(\.name)
        XCTAssertEqual(keys.first, "0.weight")
        XCTAssertTrue(keys.contains("1.running_mean"))
    }
}
