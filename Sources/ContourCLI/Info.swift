import ArgumentParser
import Foundation
import Torch

/// `contour info`: what this build runs on.
struct Info: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show Contour's and libtorch's versions, devices and threads.")

    @Flag(help: "Print JSON (keys: version, torch_version, cuda_available, devices, threads).")
    var json = false

    func run() throws {
        let cuda = Device.isCUDAAvailable
        let devices = ["cpu"] + (cuda ? (0..<Device.cudaDeviceCount).map { "cuda:\($0)" } : [])
        if json {
            let object: [String: Any] = [
                "version": Contour.version, "torch_version": Torch.version, "cuda_available": cuda,
                "devices": devices, "threads": Torch.threads,
            ]
            let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        } else {
            print("contour \(Contour.version)")
            print("libtorch \(Torch.version)")
            print("devices: \(devices.joined(separator: ", "))")
            if let why = Device.cudaUnavailableReason { print("cuda: \(why)") }
            print("threads: \(Torch.threads)")
        }
    }
}
