/// A model whose parts take weights published for another layout — ConDSeg's encoder takes a
/// torchvision ResNet's (`conv1.weight` is its `layer0.0.weight`). When loading pretrained
/// weights, a file key the model lacks is looked up again under `modelKey(forPretrained:)`;
/// keys that already match (a checkpoint of the model itself) load as they are.
public protocol PretrainedKeyMapping {
    /// The model key for a key of the published layout, or nil when the model has no such part.
    func modelKey(forPretrained key: String) -> String?
}
