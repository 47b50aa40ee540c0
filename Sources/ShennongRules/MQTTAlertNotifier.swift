import Dispatch
import Logging
import Metrics
import MosquittoClient
import ShennongAlerts

/// Publishes every alert transition on `{prefix}/alerts/{domain}/{device}` (QoS 1, JSON).
///
/// The client is created when the notifier starts and connects on the first message. A
/// message is settled once the broker acknowledged it (PUBACK), or after 10 s without (the
/// client keeps it queued); a failed publish is logged, not retried. The payload carries
/// `delivery` (`{alert}-{transition}`) for subscribers to drop a redelivery.
public struct MQTTAlertNotifier: Notifier {
    public let configuration: MQTTConfiguration
    public let topicPrefix: String
    let logger: Logger
    private let published = Counter(label: "shennong_alert_mqtt_published_total")

    public init(configuration: MQTTConfiguration, topicPrefix: String, logger: Logger) {
        self.configuration = configuration
        self.topicPrefix = topicPrefix
        self.logger = logger
    }

    /// The MQTT topic of an alert.
    public func topic(_ alert: AlertRecord) -> String { "\(topicPrefix)/alerts/\(alert.domain)/\(alert.device)" }

    public var name: String { "mqtt" }

    public func wants(_ notice: AlertNotice) -> Bool { true }

    public func run(_ messages: AsyncStream<AlertMessage>, settled: @escaping @Sendable (AlertMessage) -> Void) async throws {
        let publisher = try MQTTPublisher(configuration: configuration, logger: logger)
        defer { publisher.disconnect() }
        for await message in messages {
            let topic = topic(message.notice.alert)
            do {
                if !publisher.isConnected && publisher.publishedCount == 0 {
                    try publisher.connect(timeout: .seconds(5))
                }
                try publisher.publish(topic: topic, payload: message.body, qos: 1, retain: false)
                published.increment()
                // A blocking wait: on a thread of its own, not one of the tasks' pool.
                let acknowledged = await withCheckedContinuation { continuation in
                    DispatchQueue.global().async { continuation.resume(returning: publisher.waitUntilAcknowledged(timeout: .seconds(10))) }
                }
                if !acknowledged {
                    logger.warning("alert published on MQTT, not yet acknowledged by the broker", metadata: ["topic": "\(topic)"])
                }
            } catch {
                logger.error("cannot publish alert on MQTT", metadata: ["topic": "\(topic)", "error": "\(error)"])
            }
            settled(message)
        }
    }
}
