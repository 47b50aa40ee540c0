/// Why the lifecycle refused a person's action on an alert, with a stable code.
public struct AlertRefusal: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Code: String, Sendable, Hashable {
        /// There is no such alert.
        case notFound = "not_found"
        /// The alert's status does not allow the action (acknowledging a resolved alert, closing an open one).
        case conflict = "conflict"
        /// Closing needs a note saying what was done.
        case noteRequired = "note_required"
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code.rawValue): \(message)" }
}
