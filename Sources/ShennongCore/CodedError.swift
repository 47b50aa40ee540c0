/// An error at a module's edge: a stable code (its raw value is what scripts and logs see)
/// and a message staff can act on.
///
/// Each module names its codes and its error: `typealias StoreError = CodedError<StoreErrorCode>`.
public struct CodedError<Code: RawRepresentable & Hashable & Sendable>: Error, Sendable, CustomStringConvertible, Hashable
where Code.RawValue == String {
    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    /// `code: message`.
    public var description: String { "\(code.rawValue): \(message)" }
}
