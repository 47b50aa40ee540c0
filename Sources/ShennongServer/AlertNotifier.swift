import Foundation
import Logging
import Metrics
import MosquittoClient
import ServiceLifecycle
import ShennongCore
import ShennongRules
import ShennongStore

/// Pushes alert transitions out: MQTT on `{prefix}/alerts/{domain}/{device}` (QoS 1, JSON),
/// signed webhook POSTs with retry and back-off, and the contacts of the tier concerned.
///
/// ``enqueue(_:)`` never blocks and never fails (ingest calls it); a bounded buffer keeps the
/// newest 10,000 messages if the notifiers fall behind (dropped ones are counted). Alerts
/// marked late (raised from backfilled readings) are recorded but not pushed.
final class AlertNotifier: Service, Sendable {
    private let stream: AsyncStream<AlertNotice>
    private let continuation: AsyncStream<AlertNotice>.Continuation
    private let config: ServerConfig.Rules
    private let topicPrefix: String
    private let mqtt: MQTTConfiguration?
    private let catalog: RuleCatalog
    private let logger: Logger
    private let dropped = Counter(label: "shennong_alert_notifications_dropped_total")
    private let published = Counter(label: "shennong_alert_mqtt_published_total")
    private let delivered = Counter(label: "shennong_alert_webhooks_delivered_total")
    private let failed = Counter(label: "shennong_alert_webhooks_failed_total")

    init(config: ServerConfig.Rules, topicPrefix: String, mqtt: MQTTConfiguration?, catalog: RuleCatalog, logger: Logger) {
        (stream, continuation) = AsyncStream.makeStream(of: AlertNotice.self, bufferingPolicy: .bufferingNewest(10_000))
        self.config = config
        self.topicPrefix = topicPrefix
        self.mqtt = mqtt
        self.catalog = catalog
        self.logger = logger
    }

    /// Queues transitions for pushing (late ones are left out).
    func enqueue(_ notices: [AlertNotice]) {
        for notice in notices where !notice.transition.late {
            if case .dropped = continuation.yield(notice) { dropped.increment() }
        }
    }

    /// The MQTT topic of an alert.
    func topic(_ alert: AlertRecord) -> String { "\(topicPrefix)/alerts/\(alert.domain)/\(alert.device)" }

    func run() async throws {
        let publisher = try mqtt.map { try MQTTPublisher(configuration: $0, logger: logger) }
        defer { publisher?.disconnect() }
        await withTaskGroup(of: Void.self) { group in
            // One queue per receiver: deliveries to one URL go out in order, one at a time
            // (a retry holds back the later ones), different URLs independently.
            var queues: [WebhookTarget: AsyncStream<Delivery>.Continuation] = [:]
            func queue(_ target: WebhookTarget) -> AsyncStream<Delivery>.Continuation {
                if let existing = queues[target] { return existing }
                let (deliveries, continuation) = AsyncStream.makeStream(of: Delivery.self, bufferingPolicy: .bufferingNewest(10_000))
                queues[target] = continuation
                group.addTask { [logger, delivered, failed] in
                    for await d in deliveries {
                        if await Webhook.deliver(d.body, event: d.event, delivery: d.id, to: target, logger: logger) {
                            delivered.increment()
                        } else {
                            failed.increment()
                        }
                    }
                }
                return continuation
            }
            for await notice in stream.cancelOnGracefulShutdown() {
                let json = AlertJSON(notice.alert, rule: catalog.rule(id: notice.alert.rule), transition: notice.transition,
                                     offsetMinutes: config.cap.offsetMinutes)
                let body = json.encoded()
                if let publisher { publish(body, topic: topic(notice.alert), with: publisher) }
                let delivery = Delivery(body: body, event: notice.transition.kind.rawValue, id: "\(notice.alert.id)-\(notice.transition.id)")
                var targets = config.webhooks.map(\.target)
                targets += contacts(for: notice).compactMap { contact in
                    contact.webhook.map { WebhookTarget(url: $0, secret: contact.secret) }
                }
                for target in targets {
                    if case .dropped = queue(target).yield(delivery) { dropped.increment() }
                }
            }
            for continuation in queues.values { continuation.finish() }
            group.cancelAll()
        }
    }

    private struct Delivery: Sendable {
        var body: [UInt8]
        var event: String
        var id: String
    }

    /// The contacts to tell about `notice`: the first tier when an alert is raised or
    /// escalated, the tier it moved to when it was escalated to contacts.
    private func contacts(for notice: AlertNotice) -> [ServerConfig.Rules.Contact] {
        let tiers = config.escalation.tiers
        switch notice.transition.kind {
        case .raised, .escalated:
            return tiers.first?.contacts ?? []
        case .contactsEscalated:
            let tier = notice.alert.contactTier
            return tier < tiers.count ? tiers[tier].contacts : []
        default:
            return []
        }
    }

    private func publish(_ body: [UInt8], topic: String, with publisher: MQTTPublisher) {
        do {
            if !publisher.isConnected && publisher.publishedCount == 0 {
                try publisher.connect(timeout: .seconds(5))
            }
            try publisher.publish(topic: topic, payload: body, qos: 1, retain: false)
            published.increment()
        } catch {
            logger.error("cannot publish alert on MQTT", metadata: ["topic": "\(topic)", "error": "\(error)"])
        }
    }
}
