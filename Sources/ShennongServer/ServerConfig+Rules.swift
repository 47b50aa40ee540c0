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
        public var webhooks: [WebhookTarget] = []
        /// The contacts, tier by tier (village 村, town 镇, county 县), and when an alert goes up one.
        public var escalation = ContactEscalation()
        public var cap = CAPOptions()
        /// Whether `cap.offset` was written (else CAP follows the top-level `local_time`).
        var capOffsetGiven = false

        public init() {}
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
        try c.update(&webhooks, "webhooks", eachSection: Self.webhook)
        try c.update(&escalation, "escalation", section: { try Self.read($0, into: &$1) })
        var offsetGiven = false
        try c.update(&cap, "cap") { c, cap in
            try Self.read(c, into: &cap)
            offsetGiven = try c.decodeIfPresent(String.self, forKey: "offset") != nil
        }
        capOffsetGiven = offsetGiven
    }

    /// A `webhooks[]` entry.
    static func webhook(_ c: ConfigSection) throws -> WebhookTarget {
        var hook = WebhookTarget(url: try c.decode(String.self, forKey: "url"))
        let parsed = URL(string: hook.url)
        try c.require(parsed?.scheme == "http" || parsed?.scheme == "https", "url", "must be an http(s) URL, not \(hook.url)")
        try c.update(&hook.secret, "secret")
        try c.update(&hook.retries, "retries")
        try c.require((0...20).contains(hook.retries), "retries", "must be 0 to 20")
        try c.update(span: &hook.backoff, "backoff")
        try c.update(span: &hook.timeout, "timeout")
        return hook
    }

    /// `escalation:`: `escalate_after`, `min_level`, `tiers` (each a `name` and its `contacts`:
    /// `name`, `phone`, `webhook`, `secret`).
    static func read(_ c: ConfigSection, into escalation: inout ContactEscalation) throws {
        try c.update(span: &escalation.escalateAfter, "escalate_after")
        try c.update(&escalation.minLevel, "min_level", parsing: AlertLevel.init(name:)) { _ in "must be blue, yellow, orange or red" }
        try c.update(&escalation.tiers, "tiers", eachSection: { tier in
            var contacts: [Contact] = []
            try tier.update(&contacts, "contacts", eachSection: { contact in
                Contact(
                    name: try contact.decode(String.self, forKey: "name"), phone: try contact.decodeIfPresent(String.self, forKey: "phone"),
                    webhook: try contact.decodeIfPresent(String.self, forKey: "webhook"),
                    secret: try contact.decodeIfPresent(String.self, forKey: "secret"))
            })
            return ContactTier(name: try tier.decode(String.self, forKey: "name"), contacts: contacts)
        })
    }

    /// `cap:`: `sender`, `area_code`, `org_code`, `offset`.
    static func read(_ c: ConfigSection, into cap: inout CAPOptions) throws {
        try c.update(&cap.sender, "sender")
        try c.require(
            !cap.sender.isEmpty && !cap.sender.contains(where: { " ,<&".contains($0) }), "sender",
            "must not be empty or contain spaces, commas, < or &")
        try c.update(&cap.areaCode, "area_code")
        try c.require(cap.areaCode.count == 6 && cap.areaCode.allSatisfy(\.isNumber), "area_code", "must be a six-digit GB/T 2260 code")
        try c.update(&cap.orgCode, "org_code")
        try c.update(&cap.offsetMinutes, "offset", parsing: LocalTime.offsetMinutes) { _ in "must look like +08:00" }
    }
}
