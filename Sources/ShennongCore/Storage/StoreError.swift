/// An error at the store's edge, with a stable code.
public struct StoreError: Error, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable {
        case notADatabase = "not_a_database"
        case foreignDatabase = "foreign_database"
        case io = "io"
        case invalidArgument = "invalid_argument"
        case notFound = "not_found"
        case conflict = "conflict"
        case corrupt = "corrupt"
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code.rawValue): \(message)" }
}
