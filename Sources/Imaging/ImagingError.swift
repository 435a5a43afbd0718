/// A problem with an image, label, landmark or dataset file; the message names the file.
public struct ImagingError: Error, CustomStringConvertible, Equatable {
    public var description: String
    public init(_ description: String) { self.description = description }
}
