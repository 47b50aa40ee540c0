/// Where an alert is in its closed loop (闭环): open → acknowledged → resolved → closed.
public enum AlertStatus: String, Sendable, Codable, CaseIterable, Hashable {
    /// Raised (or escalated) and not yet acknowledged by a person.
    case open
    /// A person has seen it and is handling it.
    case acknowledged
    /// The condition cleared (by itself, after the clear delay) or a person marked it handled.
    case resolved
    /// A person closed it with a note. Final.
    case closed

    /// Open or acknowledged: the (rule, device) pair has a live alert.
    public var isLive: Bool { self == .open || self == .acknowledged }
}
