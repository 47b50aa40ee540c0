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

    /// `{alert}-{transition}`: the same on every retry and every redelivery after a restart
    /// or a failover, so a receiver can drop duplicates (delivery is at least once).
    public var delivery: String { Self.delivery(notice) }

    /// The delivery id of `notice`'s message.
    public static func delivery(_ notice: AlertNotice) -> String { "\(notice.alert.id)-\(notice.transition.id)" }
}

/// One way out for alert transitions: an MQTT topic (``MQTTAlertNotifier``), a webhook or a
/// contact's gateway (``WebhookNotifier``), rule automation.
///
/// ``AlertNotifier`` gives each notifier its own ordered feed of the messages it
/// ``wants(_:)``, from the outbox after the notifier's cursor, and runs it: a slow receiver
/// holds back only its own messages.
public protocol Notifier: Sendable {
    /// A stable name: the key of its delivery cursor in the database (`mqtt`, `webhook:{host}:{hash}`,
    /// `automation`) and the `notifier` label of `shennong_alert_notifications_behind`. A
    /// notifier whose name changes starts again at the newest transition.
    var name: String { get }
    /// Whether this notifier takes `notice` (a contact hears only of its own tier).
    func wants(_ notice: AlertNotice) -> Bool
    /// Sends `messages` in order, one at a time, until the sequence ends or the task is
    /// cancelled, calling `settled` with each once it was delivered or given up for good (the
    /// cursor then passes it; a message never settled is sent again after a restart). Throws
    /// only when it cannot start (the MQTT client cannot be created); a failed delivery is
    /// logged and counted, not thrown.
    func run(_ messages: AsyncStream<AlertMessage>, settled: @escaping @Sendable (AlertMessage) -> Void) async throws
}
