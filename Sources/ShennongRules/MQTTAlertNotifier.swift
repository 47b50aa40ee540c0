import Logging
import Metrics
import MosquittoClient
import ShennongAlerts

/// Publishes every alert transition on `{prefix}/alerts/{domain}/{device}` (QoS 1, JSON).
///
/// The client is created when the notifier starts and connects on the first message; a
/// failed publish is logged and counted, not retried.
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

    public func wants(_ notice: AlertNotice) -> Bool { true }

    public func run(_ messages: AsyncStream<AlertMessage>) async throws {
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
            } catch {
                logger.error("cannot publish alert on MQTT", metadata: ["topic": "\(topic)", "error": "\(error)"])
            }
        }
    }
}
