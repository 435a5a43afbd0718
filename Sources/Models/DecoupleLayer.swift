import NeuralNet
import Torch

/// ConDSeg's Semantic Information Decoupling (§4.3): three unshared branches (fg, bg, uc) of
/// CBR3×3(in→512) → CBR3×3(512→out) → CBR1×1(out→out) on the deepest features.
final class DecoupleLayer: Module {
    let cbrFg: Sequential, cbrBg: Sequential, cbrUc: Sequential

    init(_ cin: Int, _ cout: Int, middle: Int = 512) throws {
        func branch() throws -> Sequential {
            Sequential(try ConvBNReLU(cin, middle), try ConvBNReLU(middle, cout), try ConvBNReLU(cout, cout, kernel: 1))
        }
        cbrFg = try branch()
        cbrBg = try branch()
        cbrUc = try branch()
        super.init()
    }

    func callAsFunction(_ x: Tensor) throws -> (fg: Tensor, bg: Tensor, uc: Tensor) {
        (try cbrFg(x), try cbrBg(x), try cbrUc(x))
    }
}
