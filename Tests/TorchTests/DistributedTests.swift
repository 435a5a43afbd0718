import Foundation
import XCTest
@testable import Torch

/// Two ranks of a Gloo process group, each in its own process, against values computed by hand.
/// A rank is this test binary re-run on one test with `CONTOUR_TEST_RANK` set: ranks are processes
/// in every real run, and two groups in one process crashed inside Gloo now and then (a few %).
final class DistributedTests: XCTestCase {
    /// Runs `body(rank, group)` in two child processes joined in one group; returns each rank's
    /// result. In a child it runs the body for its rank, writes the result and skips the rest of
    /// the test (the parent asserts).
    func twoRanks<R: Codable>(timeout: Double = 20, test: String = #function,
                              _ body: (Int, Distributed) throws -> R) throws -> [R] {
        let env = ProcessInfo.processInfo.environment
        if let rankText = env["CONTOUR_TEST_RANK"], let rank = Int(rankText), let port = env["CONTOUR_TEST_PORT"].flatMap(Int.init),
           let out = env["CONTOUR_TEST_OUT"] {
            let result: RankResult<R>
            do {
                result = .init(value: try body(rank, try Distributed(masterAddress: "127.0.0.1", masterPort: port, rank: rank,
                                                                      worldSize: 2, timeout: timeout)), error: nil)
            } catch {
                result = .init(value: nil, error: "\(error)")
            }
            try JSONEncoder().encode(result).write(to: URL(fileURLWithPath: out), options: .atomic)
            throw XCTSkip("rank \(rank) of \(test) (the parent process asserts)")
        }
        let port = try DistributedEnvironment.freePort()
        let dir = NSTemporaryDirectory() + "contour-ranks-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let name = String(reflecting: type(of: self)) + "/" + test.replacingOccurrences(of: "()", with: "")
        var children: [(Process, Pipe)] = []
        for rank in 0..<2 {
            let p = Process(), log = Pipe()
            p.executableURL = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
            p.arguments = [name]
            p.environment = env.merging(["CONTOUR_TEST_RANK": "\(rank)", "CONTOUR_TEST_PORT": "\(port)",
                                         "CONTOUR_TEST_OUT": "\(dir)/\(rank).json"]) { _, new in new }
            p.standardOutput = log
            p.standardError = log
            try p.run()
            children.append((p, log))
        }
        // Read the logs while waiting (a full pipe would block a child); stop a child that hangs.
        let logs = children.map { _, pipe in Locked(Data()) }
        let readers = DispatchGroup()
        for (i, (_, pipe)) in children.enumerated() {
            readers.enter()
            Thread {
                while case let d = pipe.fileHandleForReading.availableData, !d.isEmpty { logs[i].update { $0.append(d) } }
                readers.leave()
            }.start()
        }
        let deadline = Date().addingTimeInterval(120)
        for (p, _) in children {
            while p.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
            if p.isRunning { p.terminate() }
            p.waitUntilExit()
        }
        _ = readers.wait(timeout: .now() + 10)
        return try (0..<2).map { rank in
            let (p, _) = children[rank]
            let log = String(decoding: logs[rank].value, as: UTF8.self)
            guard p.terminationReason == .exit, p.terminationStatus == 0,
                  let data = FileManager.default.contents(atPath: "\(dir)/\(rank).json") else {
                XCTFail("rank \(rank) of \(name) ended with status \(p.terminationStatus) (\(p.terminationReason == .exit ? "exit" : "signal")):\n\(log)")
                throw RankFailed(rank: rank)
            }
            let result = try JSONDecoder().decode(RankResult<R>.self, from: data)
            if let error = result.error { throw RankFailed(rank: rank, message: error) }
            return result.value!
        }
    }

    struct RankResult<R: Codable>: Codable {
        var value: R?
        var error: String?
    }

    struct RankFailed: Error, CustomStringConvertible {
        var rank: Int
        var message = "failed"
        var description: String { "rank \(rank): \(message)" }
    }

    func testCollectives() throws {
        let out = try twoRanks { rank, g -> [[Double]] in
            let x = try Tensor([Double(rank + 1), 10 * Double(rank + 1)])
            let sum = try g.allReduce(x, .sum).doubles()
            let avg = try g.allReduce(x, .average).doubles()
            let max = try g.allReduce(x, .max).doubles()
            let fromOne = try g.broadcast(x, from: 1).doubles()
            let gathered = try g.allGather(x)
            try g.barrier()
            XCTAssertEqual(try x.doubles(), [Double(rank + 1), 10 * Double(rank + 1)], "inputs stay unchanged")
            return [sum, avg, max, fromOne, gathered.shape.map(Double.init), try gathered.reshape([-1]).doubles()]
        }
        for r in out {
            XCTAssertEqual(r[0], [3, 30])
            XCTAssertEqual(r[1], [1.5, 15])
            XCTAssertEqual(r[2], [2, 20])
            XCTAssertEqual(r[3], [2, 20])
            XCTAssertEqual(r[4], [2, 2])
            XCTAssertEqual(r[5], [1, 10, 2, 20])
        }
    }

    func testBroadcastInPlaceAndGradientBuckets() throws {
        let out = try twoRanks { rank, g -> [[Float]] in
            let w = try Tensor([Float(rank), Float(rank) + 0.5, 7] as [Float]).requiringGrad()
            let steps = try Tensor([Int64(rank * 5)])
            try g.broadcast(inPlace: [w, steps], from: 0)
            let v = try Tensor([Float(1), 2] as [Float]).requiringGrad()
            // grads: w ← rank+1 everywhere, v ← 4·rank; buckets of 8 bytes split w and v
            try w.setGrad(try Tensor.full([3], Double(rank + 1)))
            try v.setGrad(try Tensor.full([2], Double(4 * rank)))
            try g.averageGradients([w, v], bucketBytes: 8)
            return [try w.detached().floats(), try steps.toArray(Int64.self).map(Float.init), try w.grad!.floats(), try v.grad!.floats()]
        }
        for r in out {
            XCTAssertEqual(r[0], [0, 0.5, 7])
            XCTAssertEqual(r[1], [0])
            XCTAssertEqual(r[2], [1.5, 1.5, 1.5])
            XCTAssertEqual(r[3], [2, 2])
        }
    }

    /// The overlapped reducer (8-byte buckets: several per step, started from hooks during
    /// backward) writes the ranks' average into .grad; an unused parameter averages zeros; a second
    /// backward while armed (gradients accumulating) is redone from the final .grad.
    func testGradientReducerAveragesDuringBackward() throws {
        let out = try twoRanks { rank, g -> [[Float]] in
            let a = try Tensor([Float(1), 2] as [Float]).requiringGrad()
            let b = try Tensor([Float(3)] as [Float]).requiringGrad()
            let c = try Tensor([Float(5)] as [Float]).requiringGrad()
            // Reverse order b | a | c: b's and a's buckets start from their hooks, c's in finish.
            let reducer = try GradientReducer(group: g, parameters: [c, a, b], bucketBytes: 8)
            let k = Double(rank + 1)
            // d/da = 2k, d/db = 2·b·k = 6k; c unused.
            func loss() throws -> Tensor { try (a.sum() * 2 + (b * b).sum()) * k }
            try reducer.arm()
            try loss().backward()
            try reducer.finish()
            let once = [try a.grad!.floats(), try b.grad!.floats(), try c.grad!.floats()]
            for p in [a, b, c] { try p.setGrad(nil) }
            try reducer.arm()
            try loss().backward()
            try a.sum().backward()
            try reducer.finish()
            return once + [try a.grad!.floats(), try b.grad!.floats()]
        }
        for r in out {
            XCTAssertEqual(r[0], [3, 3])
            XCTAssertEqual(r[1], [9])
            XCTAssertEqual(r[2], [0])
            XCTAssertEqual(r[3], [4, 4])
            XCTAssertEqual(r[4], [9])
        }
    }

    func testBadArgumentsAreErrors() throws {
        XCTAssertThrowsError(try Distributed(masterAddress: "127.0.0.1", masterPort: 0, rank: 0, worldSize: 1)) {
            XCTAssertTrue("\($0)".contains("port 0"), "\($0)")
        }
        XCTAssertThrowsError(try Distributed(masterAddress: "127.0.0.1", masterPort: 29500, rank: 2, worldSize: 2)) {
            XCTAssertTrue("\($0)".contains("rank 2"), "\($0)")
        }
    }

    /// nccl without CUDA or without libcontour_nccl.so is an error saying which, raised before the
    /// rendezvous (rank 0 does not wait for peers); auto falls back to gloo with a note saying why.
    func testNCCLUnavailableIsAClearError() throws {
        XCTAssertEqual(try Distributed.Backend.choose("gloo", device: .cuda(0)).backend, .gloo)
        XCTAssertEqual(try Distributed.Backend.choose("auto", device: .cpu).backend, .gloo)
        XCTAssertNil(try Distributed.Backend.choose("auto", device: .cpu).notice)
        XCTAssertThrowsError(try Distributed.Backend.choose("nccl", device: .cpu)) { XCTAssertTrue("\($0)".contains("device is cpu"), "\($0)") }
        XCTAssertThrowsError(try Distributed.Backend.choose("mpi", device: .cpu)) { XCTAssertTrue("\($0)".contains("expected auto, gloo or nccl"), "\($0)") }
        guard let why = Distributed.ncclUnavailableReason else { throw XCTSkip("the nccl backend is usable here (CUDA and libcontour_nccl.so)") }
        XCTAssertTrue(why.hasPrefix("the nccl backend needs CUDA") || why.contains("libcontour_nccl.so"), why)
        let auto = try Distributed.Backend.choose("auto", device: .cuda(0))
        XCTAssertEqual(auto.backend, .gloo)
        XCTAssertTrue(auto.notice?.contains(why) == true, "\(String(describing: auto.notice))")
        XCTAssertThrowsError(try Distributed.Backend.choose("nccl", device: .cuda(0))) { XCTAssertEqual("\($0)", why) }
        let started = Date()
        XCTAssertThrowsError(try Distributed(masterAddress: "127.0.0.1", masterPort: try DistributedEnvironment.freePort(), rank: 0,
                                             worldSize: 2, timeout: 30, backend: .nccl, device: .cuda(0))) {
            XCTAssertEqual("\($0)", why)
        }
        XCTAssertLessThan(Date().timeIntervalSince(started), 10, "the error comes before waiting for the other rank")
    }

    func testPortInUseIsNamed() throws {
        let port = try DistributedEnvironment.freePort()
        let first = try Distributed(masterAddress: "127.0.0.1", masterPort: port, rank: 0, worldSize: 1, timeout: 5)
        XCTAssertEqual(try first.allReduce([2], .sum), [2])
        XCTAssertThrowsError(try Distributed(masterAddress: "127.0.0.1", masterPort: port, rank: 0, worldSize: 1, timeout: 5)) {
            XCTAssertTrue("\($0)".contains("MASTER_PORT \(port) is already in use"), "\($0)")
        }
    }

    func testStoppedPeerIsNamedWithinTheTimeout() throws {
        let started = Date()
        let out = try twoRanks(timeout: 4) { rank, g -> String in
            _ = try g.allReduce([1], .sum)
            if rank == 1 { return "left" }  // rank 1 leaves (its group closes); rank 0 waits in vain
            do {
                _ = try g.allReduce([1], .sum)
                return "no error"
            } catch {
                return "\(error)"
            }
        }
        XCTAssertTrue(out[0].contains("rank 1 stopped"), out[0])
        XCTAssertLessThan(Date().timeIntervalSince(started), 30)
    }

    func testEnvironment() throws {
        XCTAssertNil(try DistributedEnvironment.read([:]))
        let full = ["MASTER_ADDR": "10.0.0.1", "MASTER_PORT": "29500", "RANK": "3", "WORLD_SIZE": "4", "LOCAL_RANK": "1", "LOCAL_WORLD_SIZE": "2"]
        XCTAssertEqual(try DistributedEnvironment.read(full),
                       DistributedEnvironment(masterAddress: "10.0.0.1", masterPort: 29500, rank: 3, worldSize: 4, localRank: 1, localWorldSize: 2))
        XCTAssertEqual(try DistributedEnvironment.read(full)?.variables, full)
        func fails(_ change: [String: String?], naming text: String, line: UInt = #line) {
            var env = full
            for (k, v) in change { env[k] = v }
            XCTAssertThrowsError(try DistributedEnvironment.read(env), line: line) {
                XCTAssertTrue("\($0)".contains(text), "\($0)", line: line)
            }
        }
        fails(["MASTER_ADDR": nil], naming: "MASTER_ADDR is not set")
        fails(["MASTER_PORT": nil], naming: "MASTER_PORT is not set")
        fails(["MASTER_PORT": "70000"], naming: "MASTER_PORT=70000")
        fails(["WORLD_SIZE": nil], naming: "WORLD_SIZE is not set")
        fails(["RANK": "4"], naming: "RANK=4 is not below WORLD_SIZE=4")
        fails(["RANK": "one"], naming: "RANK=one")
        fails(["WORLD_SIZE": "0"], naming: "WORLD_SIZE=0")
        fails(["LOCAL_RANK": "2"], naming: "LOCAL_RANK=2 is not below LOCAL_WORLD_SIZE=2")
        fails(["LOCAL_WORLD_SIZE": "8"], naming: "LOCAL_WORLD_SIZE=8")
        XCTAssertThrowsError(try DistributedEnvironment.read(["MASTER_ADDR": "x"])) { XCTAssertTrue("\($0)".contains("MASTER_ADDR is set but RANK")) }
    }
}

/// A value shared between threads.
final class Locked<T>: @unchecked Sendable {
    private var stored: T
    private let lock = NSLock()
    init(_ value: T) { stored = value }
    var value: T { lock.lock(); defer { lock.unlock() }; return stored }
    func update(_ body: (inout T) -> Void) { lock.lock(); body(&stored); lock.unlock() }
}
