import ShennongCore

/// Why the lifecycle refused a person's action on an alert.
public enum AlertRefusalCode: String, Sendable, Hashable {
    /// There is no such alert.
    case notFound = "not_found"
    /// The alert's status does not allow the action (acknowledging a resolved alert, closing an open one).
    case conflict = "conflict"
    /// Closing needs a note saying what was done.
    case noteRequired = "note_required"
}

/// A refusal of the alert lifecycle, with a stable code.
public typealias AlertRefusal = CodedError<AlertRefusalCode>
