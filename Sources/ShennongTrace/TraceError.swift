/// An error of the traceability module, with a stable code and a message staff can act on.
///
/// Refusals that a producer or consumer sees carry Chinese first, English beside it.
public struct TraceError: Error, Sendable, CustomStringConvertible, Equatable {
    public enum Code: String, Sendable {
        case invalidArgument = "invalid_argument"
        case notFound = "not_found"
        case conflict = "conflict"
        /// A harvest inside the withdrawal period (安全间隔期) of a pesticide.
        case withdrawalPeriod = "withdrawal_period"
        /// The batch is recalled: no more codes or events but the recall itself.
        case recalled = "recalled"
        case broken = "broken_chain"
        case io = "io"
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code.rawValue): \(message)" }
}
