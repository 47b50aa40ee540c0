import ShennongCore
import Foundation
import ShennongAlerts
import ShennongRules

extension ServerConfig {
    /// The `rules:` section: early warnings. Durations are written `30s`, `10m`, `1h`.
    ///
    /// ```yaml
    /// rules:
    ///   enabled: true
    ///   directory: Config/rules
    ///   late_after: 1h          # alerts from older readings are recorded as late, not pushed
    ///   check_interval: 30s     # silence and escalation checks
    ///   mqtt_publish: true      # {topic_prefix}/alerts/{domain}/{device}
    ///   webhooks:
    ///     - { url: https://example.org/hook, secret: s3cret, retries: 5, backoff: 1s }
    ///   escalation:
    ///     escalate_after: 30m   # an orange or red alert not acknowledged by then goes up a tier
    ///     tiers:
    ///       - { name: village, contacts: [{ name: 村网格员, phone: "138...", webhook: https://... }] }
    ///       - { name: town, contacts: [...] }
    ///       - { name: county, contacts: [...] }
    ///   cap: { sender: shennong@county.example, area_code: "441800", org_code: "001", offset: "+08:00" }
    /// ```
    public struct Rules: Sendable, Decodable {
        public var enabled = true
        public var directory = "Config/rules"
        public var lateAfter: Int64 = 3_600_000
        public var checkInterval: Int64 = 30_000
        public var mqttPublish = true
        public var webhooks: [Webhook] = []
        public var escalation = Escalation()
        public var cap = CAP()

        public init() {}

        public struct Webhook: Sendable, Decodable {
            public var url: String
            public var secret: String?
            public var retries = 5
            public var backoff: Int64 = 1000
            public var timeout: Int64 = 10_000

            public var target: WebhookTarget {
                WebhookTarget(url: url, secret: secret, retries: retries, backoff: backoff, timeout: timeout)
            }
        }

        public struct Contact: Sendable, Decodable {
            public var name: String
            public var phone: String?
            /// Where this contact's notifications are POSTed (an SMS or messaging gateway).
            public var webhook: String?
            public var secret: String?
        }

        public struct Tier: Sendable, Decodable {
            /// village (村), town (镇), county (县).
            public var name: String
            public var contacts: [Contact] = []

            enum CodingKeys: String, CodingKey { case name, contacts }

            public init(from decoder: any Decoder) throws {
                let c = try decoder.container(keyedBy: CodingKeys.self)
                name = try c.decode(String.self, forKey: .name)
                contacts = try c.decodeIfPresent([Contact].self, forKey: .contacts) ?? []
            }
        }

        public struct Escalation: Sendable, Decodable {
            public var escalateAfter: Int64 = 30 * 60_000
            /// The lowest level that escalates (orange).
            public var minLevel: AlertLevel = .orange
            public var tiers: [Tier] = []
            public init() {}
        }

        public struct CAP: Sendable, Decodable {
            public var sender = "shennong@localhost"
            public var areaCode = "440000"
            public var orgCode = "001"
            public var offsetMinutes = 480
            /// Whether `offset` was written (else CAP follows the top-level `local_time`).
            var offsetGiven = false
            public init() {}

            public var options: CAPOptions {
                CAPOptions(sender: sender, areaCode: areaCode, orgCode: orgCode, offsetMinutes: offsetMinutes)
            }
        }
    }
}

private func span<K: CodingKey>(_ c: KeyedDecodingContainer<K>, _ key: K, allowZero: Bool = false) throws -> Int64? {
    guard let text = try c.decodeIfPresent(String.self, forKey: key) else { return nil }
    guard let ms = DurationText.milliseconds(text), allowZero || ms > 0 else {
        throw DecodingError.dataCorruptedError(forKey: key, in: c, debugDescription: "must be a duration like 30s, 10m or 1h, not \(text)")
    }
    return ms
}

extension ServerConfig.Rules {
    enum CodingKeys: String, CodingKey {
        case enabled, directory, webhooks, escalation, cap
        case lateAfter = "late_after"
        case checkInterval = "check_interval"
        case mqttPublish = "mqtt_publish"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        enabled = try c.decodeIfPresent(Bool.self, forKey: .enabled) ?? enabled
        directory = try c.decodeIfPresent(String.self, forKey: .directory) ?? directory
        lateAfter = try span(c, .lateAfter) ?? lateAfter
        checkInterval = try span(c, .checkInterval) ?? checkInterval
        mqttPublish = try c.decodeIfPresent(Bool.self, forKey: .mqttPublish) ?? mqttPublish
        webhooks = try c.decodeIfPresent([Webhook].self, forKey: .webhooks) ?? []
        escalation = try c.decodeIfPresent(Escalation.self, forKey: .escalation) ?? escalation
        cap = try c.decodeIfPresent(CAP.self, forKey: .cap) ?? cap
    }
}

extension ServerConfig.Rules.Webhook {
    enum CodingKeys: String, CodingKey { case url, secret, retries, backoff, timeout }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        url = try c.decode(String.self, forKey: .url)
        guard let parsed = URL(string: url), parsed.scheme == "http" || parsed.scheme == "https" else {
            throw DecodingError.dataCorruptedError(forKey: .url, in: c, debugDescription: "must be an http(s) URL, not \(url)")
        }
        secret = try c.decodeIfPresent(String.self, forKey: .secret)
        retries = try c.decodeIfPresent(Int.self, forKey: .retries) ?? retries
        guard (0...20).contains(retries) else {
            throw DecodingError.dataCorruptedError(forKey: .retries, in: c, debugDescription: "must be 0 to 20")
        }
        backoff = try span(c, .backoff) ?? backoff
        timeout = try span(c, .timeout) ?? timeout
    }
}

extension ServerConfig.Rules.Escalation {
    enum CodingKeys: String, CodingKey {
        case tiers
        case escalateAfter = "escalate_after"
        case minLevel = "min_level"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        escalateAfter = try span(c, .escalateAfter) ?? escalateAfter
        if let name = try c.decodeIfPresent(String.self, forKey: .minLevel) {
            guard let level = AlertLevel(name: name) else {
                throw DecodingError.dataCorruptedError(forKey: .minLevel, in: c, debugDescription: "must be blue, yellow, orange or red")
            }
            minLevel = level
        }
        tiers = try c.decodeIfPresent([ServerConfig.Rules.Tier].self, forKey: .tiers) ?? []
    }
}

extension ServerConfig.Rules.CAP {
    enum CodingKeys: String, CodingKey {
        case sender, offset
        case areaCode = "area_code"
        case orgCode = "org_code"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        sender = try c.decodeIfPresent(String.self, forKey: .sender) ?? sender
        guard !sender.isEmpty, !sender.contains(where: { " ,<&".contains($0) }) else {
            throw DecodingError.dataCorruptedError(forKey: .sender, in: c, debugDescription: "must not be empty or contain spaces, commas, < or &")
        }
        areaCode = try c.decodeIfPresent(String.self, forKey: .areaCode) ?? areaCode
        guard areaCode.count == 6, areaCode.allSatisfy(\.isNumber) else {
            throw DecodingError.dataCorruptedError(forKey: .areaCode, in: c, debugDescription: "must be a six-digit GB/T 2260 code")
        }
        orgCode = try c.decodeIfPresent(String.self, forKey: .orgCode) ?? orgCode
        if let text = try c.decodeIfPresent(String.self, forKey: .offset) {
            guard let minutes = LocalTime.offsetMinutes(text) else {
                throw DecodingError.dataCorruptedError(forKey: .offset, in: c, debugDescription: "must look like +08:00")
            }
            offsetMinutes = minutes
            offsetGiven = true
        }
    }
}
