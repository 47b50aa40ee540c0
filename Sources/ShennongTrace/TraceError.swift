import ShennongCore

/// What went wrong in traceability. Refusals that a producer or consumer sees carry Chinese
/// first, English beside it.
public enum TraceErrorCode: String, Sendable, Hashable {
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

/// An error of the traceability module, with a stable code and a message staff can act on.
public typealias TraceError = CodedError<TraceErrorCode>
