import Foundation
import ShennongCore
import ShennongForward

extension ServerConfig {
    /// The `forward:` section: forwarding readings, alert transitions and registry changes to
    /// upstream centres (统一采集、全网共享), each target following a durable cursor.
    ///
    /// ```yaml
    /// forward:
    ///   area_code: "445302"              # this county (GB/T 2260): {area_code}
    ///   device_id: "{area_code}.{device}" # the device id at the centre
    ///   targets:
    ///     - name: yunfu-centre           # names the cursor: keep it when editing the target
    ///       mqtt:
    ///         host: centre.example.cn
    ///         port: 8883
    ///         client_id: shennong-forward-445302
    ///         username: county-445302
    ///         password_file: /etc/shennong/centre.pass   # or password, or password_env
    ///         tls: { ca_file: /etc/shennong/centre-ca.pem }
    ///         topic: "agri/{device_id}/telemetry"
    ///       domains: [water, weather]   # filter (empty: all)
    ///       sites: []
    ///       carries: [readings, alerts, devices, seals]   # seals: server-wide, the filter does not apply
    ///     - name: province
    ///       http:
    ///         url: https://data.example.cn/ingest
    ///         format: ndjson             # or senml
    ///         gzip: true
    ///         secret_file: /etc/shennong/province.key    # HMAC-SHA256 of X-Shennong-Signature
    ///       batch: 2000                  # most readings per delivery
    ///       poll_interval: 250ms
    ///       backoff_min: 200ms
    ///       backoff_max: 30s
    /// ```
    public struct Forward: Sendable, Decodable {
        public var areaCode: String?
        public var deviceID = "{area_code}.{device}"
        public var targets: [ForwardTarget] = []

        public init() {}

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: ConfigKey.self)
            try c.update(&areaCode, "area_code")
            try c.update(&deviceID, "device_id")
            if let unknown = TopicTemplate(deviceID).unknownPlaceholders.first {
                throw c.invalid("device_id", "unknown placeholder {\(unknown)}")
            }
            let written = try c.decodeIfPresent([TargetConfig].self, forKey: "targets") ?? []
            guard !written.isEmpty else { return }
            guard let areaCode, !areaCode.isEmpty else {
                throw c.invalid("area_code", "forwarding needs this server's area code (GB/T 2260)")
            }
            var names: Set<String> = []
            for var target in written.map(\.target) {
                try c.require(names.insert(target.name).inserted, "targets", "two targets named \(target.name)")
                target.areaCode = areaCode
                target.deviceID = deviceID
                if case .mqtt(var m) = target.transport, m.connection.clientID.isEmpty {
                    m.connection.clientID = "shennong-forward-\(areaCode)-\(target.name)"
                    target.transport = .mqtt(m)
                }
                targets.append(target)
            }
        }
    }

    /// One `forward.targets[]` entry as written, its defaults ``ForwardTarget``'s own;
    /// ``Forward`` gives it the area code, the device id template and, without `client_id`,
    /// its MQTT client id.
    struct TargetConfig: Decodable {
        var target: ForwardTarget

        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: ConfigKey.self)
            let name = try c.decode(String.self, forKey: "name")
            guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || "-_.".contains($0) }) else {
                throw c.invalid("name", "letters, digits, - _ . only")
            }
            let mqtt = try c.decodeIfPresent(MQTTTarget.self, forKey: "mqtt")
            let http = try c.decodeIfPresent(HTTPTarget.self, forKey: "http")
            switch (mqtt, http) {
            case (let m?, nil): target = ForwardTarget(name: name, transport: .mqtt(m.target), areaCode: "")
            case (nil, let h?): target = ForwardTarget(name: name, transport: .http(h.target), areaCode: "")
            default: throw c.invalid("name", "target \(name): give one of mqtt or http")
            }
            for text in try c.decodeIfPresent([String].self, forKey: "domains") ?? [] {
                guard let domain = Domain(rawValue: text) else { throw c.invalid("domains", "unknown domain \(text)") }
                target.domains.insert(domain)
            }
            target.sites = Set(try c.decodeIfPresent([String].self, forKey: "sites") ?? [])
            if let list = try c.decodeIfPresent([String].self, forKey: "carries") {
                target.carries = []
                for text in list {
                    guard let carry = ForwardTarget.Carry(rawValue: text) else {
                        throw c.invalid("carries", "readings, alerts, devices or seals, not \(text)")
                    }
                    target.carries.insert(carry)
                }
            }
            try c.update(&target.batchReadings, "batch")
            try c.require((1...100_000).contains(target.batchReadings), "batch", "from 1 to 100000")
            let refusal = { (text: String) in "a duration from 10ms to 1h, not \(text)" }
            try c.update(duration: &target.pollInterval, "poll_interval", in: 10...3_600_000, refusal: refusal)
            try c.update(duration: &target.minBackoff, "backoff_min", in: 10...3_600_000, refusal: refusal)
            try c.update(duration: &target.maxBackoff, "backoff_max", in: 10...3_600_000, refusal: refusal)
            target.maxBackoff = max(target.minBackoff, target.maxBackoff)
        }
    }

    /// A target's `mqtt:` as written. Without `client_id`, the client id is left empty here
    /// and made from the area code and the target's name by ``Forward`` (two counties never
    /// share one).
    struct MQTTTarget: Decodable {
        var target: ForwardTarget.MQTT

        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: ConfigKey.self)
            target = ForwardTarget.MQTT(
                host: try c.decode(String.self, forKey: "host"), port: try c.decodeIfPresent(Int.self, forKey: "port") ?? 1883,
                clientID: try c.decodeIfPresent(String.self, forKey: "client_id") ?? "",
                username: try c.decodeIfPresent(String.self, forKey: "username"),
                password: try c.secret("password", file: "password_file", environment: "password_env"), tls: try c.mqttTLS("tls"))
            let topics: [(ConfigKey, WritableKeyPath<ForwardTarget.MQTT, String>)] = [
                ("topic", \.topic), ("alert_topic", \.alertTopic), ("device_topic", \.deviceTopic), ("seal_topic", \.sealTopic),
            ]
            for (key, topic) in topics {
                try c.update(&target[keyPath: topic], key)
                if let unknown = TopicTemplate(target[keyPath: topic]).unknownPlaceholders.first {
                    throw c.invalid(key, "unknown placeholder {\(unknown)}")
                }
            }
        }
    }

    struct HTTPTarget: Decodable {
        var target: ForwardTarget.HTTP

        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: ConfigKey.self)
            let url = try c.decode(String.self, forKey: "url")
            guard let parsed = URL(string: url), parsed.scheme == "http" || parsed.scheme == "https" else {
                throw c.invalid("url", "an http(s) URL, not \(url)")
            }
            target = ForwardTarget.HTTP(url: url)
            try c.update(&target.format, "format", parsing: ForwardTarget.HTTP.Format.init(rawValue:)) { "ndjson or senml, not \($0)" }
            target.gzip = try c.decodeIfPresent(Bool.self, forKey: "gzip") ?? true
            target.secret = try c.secret("secret", file: "secret_file", environment: "secret_env")
            try c.update(duration: &target.timeout, "timeout", in: 100...600_000) { _ in "a duration from 100ms to 10m" }
        }
    }
}
