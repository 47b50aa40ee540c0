import Logging
import Metrics
import ServiceLifecycle
import ShennongAlerts

/// Pushes alert transitions out through its ``Notifier``s (MQTT, webhooks, contacts' gateways).
///
/// ``enqueue(_:)`` never blocks and never fails (ingest calls it); bounded buffers keep the
/// newest 10,000 messages if the notifiers fall behind (dropped ones are counted). Alerts
/// marked late (raised from backfilled readings) are recorded but not pushed. Each notifier
/// gets its own queue: its messages go out in order, one at a time (a retry holds back the
/// later ones), different notifiers independently.
public final class AlertNotifier: Service, Sendable {
    private let stream: AsyncStream<AlertNotice>
    private let continuation: AsyncStream<AlertNotice>.Continuation
    private let notifiers: [any Notifier]
    private let catalog: RuleCatalog
    private let offsetMinutes: Int
    private let logger: Logger
    private let dropped = Counter(label: "shennong_alert_notifications_dropped_total")

    /// - Parameter offsetMinutes: the local time offset of the JSON's times (CAP's `offset`).
    public init(notifiers: [any Notifier], catalog: RuleCatalog, offsetMinutes: Int, logger: Logger) {
        (stream, continuation) = AsyncStream.makeStream(of: AlertNotice.self, bufferingPolicy: .bufferingNewest(10_000))
        self.notifiers = notifiers
        self.catalog = catalog
        self.offsetMinutes = offsetMinutes
        self.logger = logger
    }

    /// Queues transitions for pushing (late ones are left out).
    public func enqueue(_ notices: [AlertNotice]) {
        for notice in notices where !notice.transition.late {
            if case .dropped = continuation.yield(notice) { dropped.increment() }
        }
    }

    public func run() async throws {
        var queues: [AsyncStream<AlertMessage>.Continuation] = []
        var streams: [AsyncStream<AlertMessage>] = []
        for _ in notifiers {
            let (messages, queue) = AsyncStream.makeStream(of: AlertMessage.self, bufferingPolicy: .bufferingNewest(10_000))
            streams.append(messages)
            queues.append(queue)
        }
        let inputs = queues
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (notifier, messages) in zip(notifiers, streams) {
                group.addTask { try await notifier.run(messages) }
            }
            group.addTask { [self] in await dispatch(to: inputs) }
            // The first to end is the dispatch (graceful shutdown), or a notifier that could
            // not start: its error ends the service.
            try await group.next()
            for queue in queues { queue.finish() }
            group.cancelAll()
        }
    }

    /// Hands each notice, as JSON, to the queues of the notifiers that want it.
    private func dispatch(to queues: [AsyncStream<AlertMessage>.Continuation]) async {
        for await notice in stream.cancelOnGracefulShutdown() {
            let targets = notifiers.indices.filter { notifiers[$0].wants(notice) }
            guard !targets.isEmpty else { continue }
            let json = AlertJSON(
                notice.alert, rule: catalog.rule(id: notice.alert.rule), transition: notice.transition,
                offsetMinutes: offsetMinutes)
            let message = AlertMessage(notice: notice, body: json.encoded())
            for i in targets {
                if case .dropped = queues[i].yield(message) { dropped.increment() }
            }
        }
    }
}
