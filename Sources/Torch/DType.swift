import CTorch

/// Element types. Raw values are libtorch's `c10::ScalarType` codes.
public enum DType: Int32, Sendable, CaseIterable, CustomStringConvertible {
    case uint8 = 0, int8 = 1, int16 = 2, int32 = 3, int64 = 4, float16 = 5, float32 = 6, float64 = 7
    case bool = 11, bfloat16 = 15

    public var isFloatingPoint: Bool { [.float16, .bfloat16, .float32, .float64].contains(self) }

    public var byteCount: Int {
        switch self {
        case .uint8, .int8, .bool: return 1
        case .int16, .float16, .bfloat16: return 2
        case .int32, .float32: return 4
        case .int64, .float64: return 8
        }
    }

    /// The safetensors / numpy-like short names.
    public var description: String {
        switch self {
        case .uint8: return "uint8"
        case .int8: return "int8"
        case .int16: return "int16"
        case .int32: return "int32"
        case .int64: return "int64"
        case .float16: return "float16"
        case .float32: return "float32"
        case .float64: return "float64"
        case .bool: return "bool"
        case .bfloat16: return "bfloat16"
        }
    }

    /// Fails for a code that is not one of the cases (never falls back to a default dtype).
    init(code: Int32) throws {
        guard let d = DType(rawValue: code) else {
            throw TorchError("unsupported libtorch dtype code \(code); supported: "
                + DType.allCases.map { "\($0) (\($0.rawValue))" }.joined(separator: ", "))
        }
        self = d
    }

    /// The shim's name for this dtype.
    @usableFromInline var ct: ct_scalar_type { ct_scalar_type(rawValue: UInt32(rawValue)) }
}

/// Swift scalar types that can be copied into and out of tensors.
public protocol TensorScalar: Sendable {
    static var dtype: DType { get }
}
extension Float: TensorScalar { public static var dtype: DType { .float32 } }
extension Double: TensorScalar { public static var dtype: DType { .float64 } }
extension Int64: TensorScalar { public static var dtype: DType { .int64 } }
extension Int32: TensorScalar { public static var dtype: DType { .int32 } }
extension Int16: TensorScalar { public static var dtype: DType { .int16 } }
extension Int8: TensorScalar { public static var dtype: DType { .int8 } }
extension UInt8: TensorScalar { public static var dtype: DType { .uint8 } }
extension Bool: TensorScalar { public static var dtype: DType { .bool } }
