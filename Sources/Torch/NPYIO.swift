import Geometry

/// `.npy` files ↔ tensors (numpy interoperability). The format itself lives in Geometry's `NPYArray`.
extension Tensor {
    /// Reads a `.npy` file (bool, integer, float16/32/64; C or Fortran order) into a CPU tensor.
    public static func loadNPY(_ path: String) throws -> Tensor {
        let array: NPYArray
        do {
            array = try NPYArray(decoding: try AtomicFile.read(path), name: path)
        } catch let e as GeometryError {
            throw TorchError(e.description)
        }
        let dtype: DType
        var bytes = array.bytes
        switch array.scalarType {
        case .bool: dtype = .bool
        case .uint8: dtype = .uint8
        case .int8: dtype = .int8
        case .int16: dtype = .int16
        case .int32: dtype = .int32
        case .int64: dtype = .int64
        case .float16: dtype = .float16
        case .float32: dtype = .float32
        case .float64: dtype = .float64
        case .uint16, .uint32, .uint64:
            // libtorch has no wide unsigned types for general math: widen to int64 exactly
            // (element by element, not through Double, which rounds above 2^53).
            let values: [Int64]
            switch array.scalarType {
            case .uint16: values = try array.elements(as: UInt16.self).map(Int64.init)
            case .uint32: values = try array.elements(as: UInt32.self).map(Int64.init)
            default:
                let wide = try array.elements(as: UInt64.self)
                if let big = wide.first(where: { $0 > UInt64(Int64.max) }) {
                    throw TorchError("uint64 value \(big) does not fit int64, the widest integer type libtorch computes with")
                }
                values = wide.map { Int64($0) }
            }
            bytes = values.withUnsafeBytes { Array($0) }
            dtype = .int64
        }
        return try Tensor(bytes: bytes, shape: array.shape, dtype: dtype)
    }

    /// Writes this tensor as a `.npy` file (atomically). bfloat16 is saved as float32 (numpy has none).
    public func saveNPY(_ path: String) throws {
        let t = dtype == .bfloat16 ? try to(.float32) : self
        let type: NPYArray.ScalarType
        switch t.dtype {
        case .bool: type = .bool
        case .uint8: type = .uint8
        case .int8: type = .int8
        case .int16: type = .int16
        case .int32: type = .int32
        case .int64: type = .int64
        case .float16: type = .float16
        case .float32, .bfloat16: type = .float32
        case .float64: type = .float64
        }
        let array = NPYArray(scalarType: type, shape: t.shape, bytes: try t.rawBytes())
        try AtomicFile.write(array.encoded(), to: path)
    }
}
