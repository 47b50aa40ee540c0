import ShennongAlerts

/// One alert transition as notifiers send it: the alert as JSON, the same bytes for every
/// notifier and every attempt.
public struct AlertMessage: Sendable, Hashable {
    public var notice: AlertNotice
    /// ``AlertJSON`` with the transition, sorted keys.
    public var body: [UInt8]

    public init(notice: AlertNotice, body: [UInt8]) {
        self.notice = notice
        self.body = body
    }

    /// The transition's kind: `raised`, `escalated`, `contacts_escalated`, …
    public var event: String { notice.transition.kind.rawValue }

    /// `{alert}-{transition}`: the same on every retry, so a receiver can drop duplicates.
    public var delivery: String { "\(notice.alert.id)-\(notice.transition.id)" }
}

/// One way out for alert transitions: an MQTT topic (``MQTTAlertNotifier``), a webhook or a
/// contact's gateway (``WebhookNotifier``).
///
/// ``AlertNotifier`` gives each notifier its own ordered queue of the messages it
/// ``wants(_:)`` and runs it: a slow receiver holds back only its own messages.
public protocol Notifier: Sendable {
    /// Whether this notifier takes `notice` (a contact hears only of its own tier).
    func wants(_ notice: AlertNotice) -> Bool
    /// Sends `messages` in order, one at a time, until the sequence ends or the task is
    /// cancelled. Throws only when it cannot start (the MQTT client cannot be created); a
    /// failed delivery is logged and counted, not thrown.
    func run(_ messages: AsyncStream<AlertMessage>) async throws
}
