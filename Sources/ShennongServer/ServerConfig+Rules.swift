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

            public init(from decoder: any Decoder) throws {
                let c = try decoder.container(keyedBy: ConfigKey.self)
                name = try c.decode(String.self, forKey: "name")
                try c.update(&contacts, "contacts")
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

extension ConfigSection {
    /// `value` from a rules duration at `key` (``DurationText``: `30s`, `10m`, `1h`; ms, more
    /// than 0) when the section has one.
    fileprivate func update(span value: inout Int64, _ key: ConfigKey) throws {
        try update(duration: &value, key) { "must be a duration like 30s, 10m or 1h, not \($0)" }
    }
}

extension ServerConfig.Rules {
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: ConfigKey.self)
        try c.update(&enabled, "enabled")
        try c.update(&directory, "directory")
        try c.update(span: &lateAfter, "late_after")
        try c.update(span: &checkInterval, "check_interval")
        try c.update(&mqttPublish, "mqtt_publish")
        try c.update(&webhooks, "webhooks")
        try c.update(&escalation, "escalation")
        try c.update(&cap, "cap")
    }
}

extension ServerConfig.Rules.Webhook {
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: ConfigKey.self)
        url = try c.decode(String.self, forKey: "url")
        let parsed = URL(string: url)
        try c.require(parsed?.scheme == "http" || parsed?.scheme == "https", "url", "must be an http(s) URL, not \(url)")
        try c.update(&secret, "secret")
        try c.update(&retries, "retries")
        try c.require((0...20).contains(retries), "retries", "must be 0 to 20")
        try c.update(span: &backoff, "backoff")
        try c.update(span: &timeout, "timeout")
    }
}

extension ServerConfig.Rules.Escalation {
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: ConfigKey.self)
        try c.update(span: &escalateAfter, "escalate_after")
        try c.update(&minLevel, "min_level", parsing: AlertLevel.init(name:)) { _ in "must be blue, yellow, orange or red" }
        try c.update(&tiers, "tiers")
    }
}

extension ServerConfig.Rules.CAP {
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: ConfigKey.self)
        try c.update(&sender, "sender")
        try c.require(
            !sender.isEmpty && !sender.contains(where: { " ,<&".contains($0) }), "sender",
            "must not be empty or contain spaces, commas, < or &")
        try c.update(&areaCode, "area_code")
        try c.require(areaCode.count == 6 && areaCode.allSatisfy(\.isNumber), "area_code", "must be a six-digit GB/T 2260 code")
        try c.update(&orgCode, "org_code")
        if let text = try c.decodeIfPresent(String.self, forKey: "offset") {
            guard let minutes = LocalTime.offsetMinutes(text) else { throw c.invalid("offset", "must look like +08:00") }
            offsetMinutes = minutes
            offsetGiven = true
        }
    }
}
