import Torch

/// How an overlap loss turns logits into probabilities.
///
/// MONAI's vocabulary (`softmax`, `sigmoid`, both false by default there because MONAI losses
/// may receive probabilities). Contour's objectives receive logits, so when neither option is
/// given the activation follows the channel count: softmax for C > 1, sigmoid for C = 1. Once
/// either is given the other defaults to false, so `{"softmax": false}` is MONAI's "no activation".
public enum Activation: String, Sendable {
    case softmax, sigmoid, identity

    /// Reads `softmax` / `sigmoid`; nil means "by channel count".
    static func parse(_ o: ObjectiveOptions) throws -> Activation? {
        let sm = try o.optionalBool("softmax"), sg = try o.optionalBool("sigmoid")
        if sm == true && sg == true {
            throw ObjectiveError("options 'softmax' and 'sigmoid' of '\(o.objective)' are exclusive; set one of them")
        }
        if sm == true { return .softmax }
        if sg == true { return .sigmoid }
        // Once either is given, the other takes MONAI's default (false).
        return sm == nil && sg == nil ? nil : .identity
    }

    static func resolved(_ a: Activation?, channels: Int) -> Activation {
        a ?? (channels > 1 ? .softmax : .sigmoid)
    }

    /// Applies the activation over dim 1; softmax over one channel is skipped, as in MONAI.
    public func apply(_ logits: Tensor) throws -> Tensor {
        switch self {
        case .softmax: return logits.shape[1] == 1 ? logits : try logits.softmax(dim: 1)
        case .sigmoid: return try logits.sigmoid()
        case .identity: return logits
        }
    }
}

extension Tensor {
    /// Channels 1… of an (N, C, …) tensor.
    func droppingFirstChannel() throws -> Tensor { try slice(dim: 1, start: 1) }

    /// Spatial axes of an (N, C, spatial…) tensor.
    var spatialAxes: [Int] { Array(2..<rank) }
}
