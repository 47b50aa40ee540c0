/// What happened to an alert in one transition.
public enum AlertTransitionKind: String, Sendable, Codable, CaseIterable, Hashable {
    case raised
    case escalated
    case steppedDown = "stepped_down"
    case acknowledged
    case resolved
    case closed
    /// Left unacknowledged past the configured time: the next tier of contacts was notified.
    case contactsEscalated = "contacts_escalated"
}

/// A level a transition records before or after it.
public enum TransitionLevel: Sendable, Hashable, Codable {
    /// No level: the condition cleared (the system resolved the alert).
    case none
    case level(AlertLevel)

    /// `.level(level)`, or `.none` for `nil`.
    public init(_ level: AlertLevel?) {
        self = level.map(TransitionLevel.level) ?? .none
    }

    /// The level, or `nil` for none.
    public var alertLevel: AlertLevel? {
        if case .level(let level) = self { level } else { nil }
    }
}

/// One change of an alert: who, when, what, and a note.
public struct AlertTransition: Sendable, Hashable, Codable {
    /// The store's id; 0 until the store has written it.
    public var id: Int64
    public var alertID: Int64
    public var kind: AlertTransitionKind
    /// The level before; `nil` for a raise (nothing before).
    public var fromLevel: TransitionLevel?
    /// The level after: `.none` when the system resolved the alert.
    public var toLevel: TransitionLevel?
    /// The alert's status after the transition.
    public var status: AlertStatus
    public var value: Double?
    /// When it happened: the reading's time for evaluated changes, else the wall clock (ms).
    public var at: Int64
    /// When it was written (wall clock, ms).
    public var recordedAt: Int64
    /// `system` for automatic transitions, else the person (or token) who made it.
    public var by: String
    public var note: String?
    public var late: Bool

    public init(
        id: Int64, alertID: Int64, kind: AlertTransitionKind, fromLevel: TransitionLevel?, toLevel: TransitionLevel?,
        status: AlertStatus, value: Double?, at: Int64, recordedAt: Int64, by: String, note: String?, late: Bool
    ) {
        self.id = id
        self.alertID = alertID
        self.kind = kind
        self.fromLevel = fromLevel
        self.toLevel = toLevel
        self.status = status
        self.value = value
        self.at = at
        self.recordedAt = recordedAt
        self.by = by
        self.note = note
        self.late = late
    }
}

/// An alert after a transition, to hand to notifiers.
public struct AlertNotice: Sendable, Hashable {
    public var alert: AlertRecord
    public var transition: AlertTransition

    public init(alert: AlertRecord, transition: AlertTransition) {
        self.alert = alert
        self.transition = transition
    }
}
