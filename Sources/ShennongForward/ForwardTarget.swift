import MosquittoClient
import ShennongCore

/// One upstream a county forwards to, as configured (`forward.targets[]`): where, what, and
/// for which devices.
public struct ForwardTarget: Sendable, Hashable {
    /// What a target carries.
    public enum Carry: String, Sendable, Hashable, CaseIterable, Codable {
        case readings, alerts, devices
        /// The seals of closed buckets (监测数据上链): server-wide, so the filter does not apply.
        case seals
    }

    /// An MQTT broker: QoS 1, topics from templates (see ``TopicTemplate``).
    public struct MQTT: Sendable, Hashable {
        /// The broker and the forward client's connection to it (``init(host:port:clientID:username:password:tls:)``).
        public var connection: MQTTConfiguration
        /// Readings of one device: an array of `{"ts": ms, "values": {metric: value}}`, the
        /// device-timestamped form every Shennong ingest accepts.
        public var topic = "agri/{device_id}/telemetry"
        public var alertTopic = "shennong/{area_code}/alerts/{device_id}"
        public var deviceTopic = "shennong/{area_code}/devices/{device_id}"
        /// Seals, one message each, retained at the broker is not asked: a centre subscribes.
        public var sealTopic = "shennong/{area_code}/seals"

        /// A forward client of the broker at `host`: a clean session (the target's cursor, not
        /// the broker, remembers what was delivered), keep-alive 30 s, reconnect from 0.2 s
        /// doubling to 2 s, up to 1000 QoS 1 messages in flight.
        public init(
            host: String, port: Int = 1883, clientID: String, username: String? = nil, password: String? = nil,
            tls: MQTTConfiguration.TLSOptions? = nil
        ) {
            connection = MQTTConfiguration(
                host: host, port: port, clientID: clientID, username: username, password: password, tls: tls, keepAlive: 30,
                cleanSession: true, reconnectDelay: .init(minimum: .milliseconds(200), maximum: .seconds(2)), maxInflight: 1000)
        }
    }

    /// An HTTP endpoint: POSTed batches, gzip and an HMAC-SHA256 signature header.
    public struct HTTP: Sendable, Hashable {
        public enum Format: String, Sendable, Hashable, CaseIterable {
            /// One JSON object a line: readings, alert transitions and device records (`type`).
            case ndjson
            /// Readings as a SenML pack (RFC 8428, `application/senml+json`); alerts and devices
            /// in a second request as NDJSON.
            case senml
        }

        public var url: String
        public var format: Format = .ndjson
        public var gzip = true
        /// HMAC-SHA256 key of `X-Shennong-Signature`; `nil`: unsigned.
        public var secret: String?
        /// Per request, ms.
        public var timeout: Int64 = 10_000

        public init(url: String, format: Format = .ndjson, gzip: Bool = true, secret: String? = nil, timeout: Int64 = 10_000) {
            self.url = url
            self.format = format
            self.gzip = gzip
            self.secret = secret
            self.timeout = timeout
        }
    }

    public enum Transport: Sendable, Hashable {
        case mqtt(MQTT)
        case http(HTTP)
    }

    /// Unique among the targets: names the cursor (keep it when editing a target).
    public var name: String
    public var transport: Transport
    /// Empty: every domain.
    public var domains: Set<Domain> = []
    /// Empty: every site.
    public var sites: Set<String> = []
    public var carries: Set<Carry> = [.readings, .alerts, .devices, .seals]
    /// The GB/T 2260 code of this server's area (`{area_code}`).
    public var areaCode: String
    /// The device id at the upstream (see ``TopicTemplate``).
    public var deviceID = "{area_code}.{device}"
    /// Most readings in one delivery.
    public var batchReadings = 2000
    /// Pause between polls when there is nothing to send, ms.
    public var pollInterval: Int64 = 250
    /// Backoff after a failed delivery: from `minBackoff`, doubling to `maxBackoff` (ms).
    public var minBackoff: Int64 = 200
    public var maxBackoff: Int64 = 30_000

    public init(name: String, transport: Transport, areaCode: String) {
        self.name = name
        self.transport = transport
        self.areaCode = areaCode
    }

    /// Whether a device's data goes to this target (its filter).
    public func wants(_ device: Device?) -> Bool {
        guard let device else { return domains.isEmpty && sites.isEmpty }
        if !domains.isEmpty && !domains.contains(device.domain) { return false }
        if !sites.isEmpty && !sites.contains(device.site ?? "") { return false }
        return true
    }

    /// The device's id at the upstream.
    public func upstreamID(of device: Device?, id: String) -> String {
        TopicTemplate(deviceID).render(TopicTemplate.Values(device: id, deviceID: id, areaCode: areaCode, domain: device?.domain.rawValue, site: device?.site))
    }

    /// The template values of a device.
    public func values(of device: Device?, id: String) -> TopicTemplate.Values {
        TopicTemplate.Values(
            device: id, deviceID: upstreamID(of: device, id: id), areaCode: areaCode, domain: device?.domain.rawValue,
            site: device?.site)
    }
}
