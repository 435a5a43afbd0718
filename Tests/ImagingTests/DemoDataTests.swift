import Foundation
import XCTest
import Geometry
@testable import Imaging

final class DemoDataTests: XCTestCase {
    var dir: String!
    override func setUpWithError() throws {
        dir = NSTemporaryDirectory() + "contour-demo-\(UUID().uuidString)"
    }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: dir) }

    func files(_ root: String) throws -> [String: Data] {
        var out: [String: Data] = [:]
        let e = FileManager.default.enumerator(atPath: root)!
        while let name = e.nextObject() as? String {
            var isDir: ObjCBool = false
            FileManager.default.fileExists(atPath: root + "/" + name, isDirectory: &isDir)
            if !isDir.boolValue { out[name] = try Data(contentsOf: URL(fileURLWithPath: root + "/" + name)) }
        }
        return out
    }

    func testEveryKindIsDeterministicPerSeedAndReadsBack() throws {
        for kind in DemoKind.allCases {
            let a = dir + "/\(kind.rawValue)-a", b = dir + "/\(kind.rawValue)-b", c = dir + "/\(kind.rawValue)-c"
            try DemoData.write(kind: kind, to: a, trainCount: 2, testCount: 1, seed: 5)
            try DemoData.write(kind: kind, to: b, trainCount: 2, testCount: 1, seed: 5)
            try DemoData.write(kind: kind, to: c, trainCount: 1, testCount: 0, seed: 6)
            let fa = try files(a), fb = try files(b), fc = try files(c)
            XCTAssertEqual(fa.keys.sorted(), fb.keys.sorted(), kind.rawValue)
            // .nii.gz carries no timestamp in nifticlib's writer, so bytes compare directly.
            for (k, v) in fa { XCTAssertEqual(v, fb[k], "\(kind.rawValue) \(k)") }
            XCTAssertNotEqual(fa["imagesTr/case_000_0000\(kind.isVolumetric ? ".nii.gz" : ".png")"],
                              fc["imagesTr/case_000_0000\(kind.isVolumetric ? ".nii.gz" : ".png")"], kind.rawValue)

            let dataset = try Dataset.open(a)
            XCTAssertEqual(dataset.training.map(\.id), ["case_000", "case_001"])
            XCTAssertEqual(dataset.test.map(\.id), ["test_000"])
            for c in dataset.training {
                let image = try Dataset.loadImage(c)
                XCTAssertEqual(image.shape, kind == .organLandmarks3d ? [64, 64, 64] : kind.isVolumetric ? [48, 48, 48]
                               : kind == .polyps ? [256, 256] : [128, 128], kind.rawValue)
                let values = image.channels[0].storage
                XCTAssertGreaterThan(Set(values).count, 20, "\(kind.rawValue): images are textured")
                if let labels = try Dataset.loadLabels(c) {
                    XCTAssertEqual(labels.shape, image.shape)
                    let fg = labels.storage.filter { $0 != 0 }.count
                    XCTAssertGreaterThan(fg, labels.count / 200, "\(kind.rawValue) \(c.id): some foreground")
                    XCTAssertLessThan(fg, labels.count / 2, "\(kind.rawValue) \(c.id): not mostly foreground")
                    XCTAssertTrue(Set(labels.storage).isSubset(of: Set(dataset.description.labels.values.map { UInt8($0) })))
                }
            }
        }
    }

    func testPolypsAreLowContrastColourScenesWithSeveralTargets() throws {
        try DemoData.write(kind: .polyps, to: dir, trainCount: 8, testCount: 0, seed: 4)
        let dataset = try Dataset.open(dir)
        XCTAssertEqual(dataset.description.channelNames, ["R", "G", "B"])
        var several = 0
        for c in dataset.training {
            let image = try Dataset.loadImage(c), labels = try XCTUnwrap(try Dataset.loadLabels(c))
            XCTAssertEqual(image.channels.count, 3)
            func mean(_ ch: Int, _ inside: Bool) -> Double {
                let v = zip(image.channels[ch].storage, labels.storage).filter { ($0.1 != 0) == inside }.map { Double($0.0) }
                return v.reduce(0, +) / Double(Swift.max(v.count, 1))
            }
            // Pinkish mucosa: red dominates; the polyp's mean colour differs by little.
            XCTAssertGreaterThan(mean(0, false), mean(1, false) + 30, c.id)
            XCTAssertLessThan(Swift.abs(mean(0, true) - mean(0, false)) / mean(0, false), 0.4, "\(c.id): low contrast")
            let components = try ConnectedComponents.label(labels.map { $0 != 0 }, connectivity: .eight).count
            if components > 1 { several += 1 }
        }
        XCTAssertGreaterThan(several, 0, "some scenes have co-occurring polyps")
    }

    func testOrganLandmarksArePartialAndOnTheBoundary() throws {
        try DemoData.write(kind: .organLandmarks, to: dir, trainCount: 6, testCount: 1, seed: 2)
        let dataset = try Dataset.open(dir)
        XCTAssertEqual(dataset.description.landmarkNames, ["bottom", "left", "right", "top"])
        var onlyLabels = 0, onlyLandmarks = 0, both = 0
        for c in dataset.training {
            let image = try Dataset.loadImage(c)
            let labels = try Dataset.loadLabels(c)
            let marks = try Dataset.loadLandmarks(c, rank: 2, header: image.header)
            XCTAssertEqual(labels != nil, c.tasks.hasSegmentation, c.id)
            XCTAssertEqual(marks != nil, c.tasks.hasLandmarks, c.id)
            switch (labels != nil, marks != nil) {
            case (true, false): onlyLabels += 1
            case (false, true): onlyLandmarks += 1
            case (true, true): both += 1
            default: XCTFail("\(c.id) carries nothing")
            }
            if let labels, let marks {
                // Each landmark is an organ voxel with a background 4-neighbour (on the boundary), at the extreme row/column.
                for (name, p) in marks.points {
                    let y = Int(p[0]), x = Int(p[1])
                    XCTAssertEqual(labels[y, x], 1, "\(c.id) \(name)")
                    let neighbours = [(y - 1, x), (y + 1, x), (y, x - 1), (y, x + 1)].map { labels[$0.0, $0.1] }
                    XCTAssertTrue(neighbours.contains(0), "\(c.id) \(name) on the boundary")
                }
                let rows = (0..<128).filter { y in (0..<128).contains { labels[y, $0] == 1 } }
                XCTAssertEqual(marks.points["top"]![0], Double(rows.first!))
                XCTAssertEqual(marks.points["bottom"]![0], Double(rows.last!))
            }
        }
        XCTAssertEqual([onlyLabels, onlyLandmarks, both], [2, 2, 2])
    }

    /// BaBLoss's HPL pair: landmark-only and segmentation-only training cases of one anatomy, the
    /// relations table in dataset.json, landmarks on the boundaries of the classes they relate to.
    func testHPLPairIsLandmarkOnlyAndSegmentationOnlyWithRelations() throws {
        try DemoData.write(kind: .organLandmarks3d, to: dir, trainCount: 4, testCount: 1, seed: 3)
        let dataset = try Dataset.open(dir)
        let names = ["anterior", "core-inferior", "core-superior", "inferior", "left", "posterior", "right", "superior"]
        XCTAssertEqual(dataset.description.landmarkNames, names)
        XCTAssertEqual(dataset.description.labels, ["background": 0, "organ": 1, "core": 2])
        for (i, c) in dataset.training.enumerated() {
            XCTAssertEqual(c.tasks.hasLandmarks, i % 2 == 0, c.id)
            XCTAssertEqual(c.tasks.hasSegmentation, i % 2 == 1, c.id)
            XCTAssertEqual(c.labelPath != nil, i % 2 == 1, c.id)
            XCTAssertEqual(FileManager.default.fileExists(atPath: "\(dir!)/landmarksTr/\(c.id).json"), i % 2 == 0, c.id)
        }
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(dir!)/dataset.json"))) as! [String: Any]
        let relations = json["relations"] as! [String: [Int]]
        XCTAssertEqual(relations.count, 8)
        XCTAssertEqual(relations["superior"], [1])
        XCTAssertEqual(relations["core-inferior"], [1, 2])

        // The test case has both references; every landmark lies on its related classes' boundaries.
        let test = dataset.test[0]
        let image = try Dataset.loadImage(test)
        XCTAssertEqual(image.shape, [64, 64, 64])
        XCTAssertEqual(image.spacing, [1.5, 1, 1])
        let labels = try ImageFile.readLabels("\(dir!)/labelsTs/\(test.id).nii.gz").labels
        let marks = try Landmarks.read(path: "\(dir!)/landmarksTs/\(test.id).json", rank: 3, header: image.header)
        XCTAssertEqual(marks.names, names)
        for (name, p) in marks.points {
            let v = p.map { Int($0) }
            let neighbours = [[-1, 0, 0], [1, 0, 0], [0, -1, 0], [0, 1, 0], [0, 0, -1], [0, 0, 1]].map { d in
                labels[v[0] + d[0], v[1] + d[1], v[2] + d[2]]
            }
            if relations[name] == [1] {
                XCTAssertGreaterThanOrEqual(labels[v[0], v[1], v[2]], 1, name)
                XCTAssertTrue(neighbours.contains(0), "\(name) on the organ's outer boundary")
            } else {
                XCTAssertEqual(labels[v[0], v[1], v[2]], 2, name)
                XCTAssertTrue(neighbours.contains(1), "\(name) on the core/organ boundary")
            }
        }
    }

    func testUnknownKindListsValidNames() {
        XCTAssertThrowsError(try DemoKind(name: "vessels")) { e in
            XCTAssertTrue("\(e)".contains("tubular") && "\(e)".contains("organ-landmarks"), "\(e)")
        }
        XCTAssertEqual(try DemoKind(name: "organ-landmarks"), .organLandmarks)
    }

    func testDemoDataFeedsTheLoader() throws {
        try DemoData.write(kind: .tubular, to: dir, trainCount: 4, testCount: 0, seed: 1)
        let dataset = try Dataset.open(dir)
        let config = DataLoaderConfiguration(batchSize: 2, patchSize: [64, 64],
                                             augmentation: AugmentationPreset.nnunetDefault.augmentation(rank: 2),
                                             normalization: .zScore, seed: 3)
        let loader = try DataLoader(cases: dataset.training, configuration: config)
        let it = loader.batches(epoch: 0)
        var n = 0
        while let b = try it.next() {
            XCTAssertEqual(b.imageShape, [2, 1, 64, 64])
            XCTAssertNotNil(b.labels)
            n += 1
        }
        XCTAssertEqual(n, 2)
    }
}
