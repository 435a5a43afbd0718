import Torch

/// A user-supplied promptable 2D segmenter (SAM-style) as a TorchScript file, under this contract:
///
/// `forward(image, points, labels[, box]) -> logits`
/// - image: (1, C, H, W) float32, the slice's raw intensities (every channel; the model does its
///   own normalisation and resizing);
/// - points: (N, 2) float32 point prompts as (x, y) = (column, row) in pixels of that slice;
/// - labels: (N,) float32, 1 = positive (every landmark prompt is positive);
/// - box: (4,) float32 (x0, y0, x1, y1), passed only with `--box-margin` (so a module without a
///   box argument works without it; a scripted `box: Optional[Tensor] = None` takes both);
/// - result: mask **logits** of shape (H, W), (1, H, W) or (1, 1, H, W) (or a tuple/list whose
///   first element is that); a pixel is in the mask where σ(logit) > 0.5, i.e. logit > 0.
/// It runs in eval mode without gradients.
public final class PromptableSegmenter {
    public let module: ScriptModule

    public init(path: String, device: Device = .cpu) throws {
        module = try ScriptModule(path: path, device: device)
    }

    /// The (H, W) float mask (1 inside) of one slice (1, C, H, W) for point prompts (x, y);
    /// with `boxMargin`, also their bounding box padded by it. `what` names the case, structure
    /// and slice in errors.
    public func mask(slice: Tensor, points: [[Double]], boxMargin: Double?, what: String) throws -> Tensor {
        let h = slice.shape[2], w = slice.shape[3]
        let device = module.device
        let image = try slice.to(device, dtype: .float32)
        let p = try Tensor(points.flatMap { $0.map(Float.init) }, shape: [points.count, 2]).to(device)
        let l = try Tensor([Float](repeating: 1, count: points.count), shape: [points.count]).to(device)
        var inputs: [Tensor?] = [image, p, l]
        if let m = boxMargin {
            let xs = points.map { $0[0] }, ys = points.map { $0[1] }
            inputs.append(try Tensor([xs.min()! - m, ys.min()! - m, xs.max()! + m, ys.max()! + m].map(Float.init), shape: [4]).to(device))
        }
        let out: Tensor
        do {
            out = try module.forward(inputs)
        } catch {
            throw TrainingError("\(what): the segmenter failed: \(error)")
        }
        guard out.shape == [h, w] || out.shape == [1, h, w] || out.shape == [1, 1, h, w] else {
            throw TrainingError("\(what): the segmenter \(module.path) returned shape \(out.shape); expected mask logits of shape "
                                + "(H, W) = (\(h), \(w)) for an input slice (1, \(slice.shape[1]), \(h), \(w)), or (1, H, W) / (1, 1, H, W)")
        }
        return try out.reshape([h, w]).gt(0).to(.cpu, dtype: .float32)
    }
}
