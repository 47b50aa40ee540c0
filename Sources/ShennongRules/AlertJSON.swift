import Foundation
import ShennongAlerts
import ShennongCore

/// Local time as staff and CAP see it: RFC 3339 with a numeric offset (never `Z`).
public enum LocalTime {
    /// `2025-11-21T14:40:00+08:00`: whole seconds, the offset written out.
    public static func format(_ ms: Int64, offsetMinutes: Int = 480) -> String {
        let local = ms + Int64(offsetMinutes) * 60_000
        let (days, msOfDay) = floorDivMod(local, 86_400_000)
        let (y, m, d) = Timestamp.civilFromDays(days)
        let h = msOfDay / 3_600_000, mi = msOfDay / 60_000 % 60, s = msOfDay / 1000 % 60
        let sign = offsetMinutes < 0 ? "-" : "+"
        let off = abs(offsetMinutes)
        return "\(pad(y, 4))-\(pad(m, 2))-\(pad(d, 2))T\(pad(h, 2)):\(pad(mi, 2)):\(pad(s, 2))\(sign)\(pad(Int64(off / 60), 2)):\(pad(Int64(off % 60), 2))"
    }

    /// `20251121144000` (local), for CAP identifiers.
    public static func compact(_ ms: Int64, offsetMinutes: Int = 480) -> String {
        format(ms, offsetMinutes: offsetMinutes).prefix(19).filter(\.isNumber)
    }

    /// Minutes of a `+08:00` / `-05:30` offset, or `nil`.
    public static func offsetMinutes(_ text: String) -> Int? {
        let t = Array(text)
        guard t.count == 6, t[0] == "+" || t[0] == "-", t[3] == ":", let h = Int(String(t[1...2])), let m = Int(String(t[4...5])),
            h <= 14, m < 60
        else { return nil }
        return (t[0] == "-" ? -1 : 1) * (h * 60 + m)
    }

    static func floorDivMod(_ a: Int64, _ b: Int64) -> (Int64, Int64) {
        let q = a / b, r = a % b
        return r < 0 ? (q - 1, r + b) : (q, r)
    }

    static func pad(_ v: Int64, _ width: Int) -> String {
        let s = String(v)
        return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
    }
}

/// An alert as JSON: the API's answer and the body published on MQTT and POSTed to webhooks.
///
/// With a transition (a notifier's message) it also says what just happened (`event`), the
/// level before, who and when.
public struct AlertJSON: Encodable, Sendable {
    public var id: Int64
    public var rule: String
    public var rule_name: String?
    public var device: String
    public var domain: String
    public var metric: String?
    public var level: String
    public var level_zh: String
    public var grade: String
    public var peak_level: String
    public var status: String
    public var value: Double?
    public var threshold: Double?
    public var raised_at: String
    public var raised_ts: Int64
    public var updated_at: String
    public var late: Bool
    public var title: String
    public var message: String
    public var instruction: String?
    public var acknowledged_by: String?
    public var acknowledged_at: String?
    public var resolved_by: String?
    public var resolved_at: String?
    public var closed_by: String?
    public var closed_at: String?
    public var contact_tier: Int
    // What just happened (notifier messages).
    public var event: String?
    public var previous_level: String?
    public var at: String?
    public var by: String?
    public var note: String?

    public init(_ a: AlertRecord, rule: Rule?, transition: AlertTransition? = nil, offsetMinutes: Int = 480) {
        func time(_ ms: Int64?) -> String? { ms.map { LocalTime.format($0, offsetMinutes: offsetMinutes) } }
        let level = AlertLevel(stored: a.level) ?? .blue
        id = a.id
        self.rule = a.rule
        rule_name = rule?.name
        device = a.device
        domain = a.domain
        metric = a.metric
        self.level = level.name
        level_zh = level.chineseName
        grade = level.roman
        peak_level = (AlertLevel(stored: a.peakLevel) ?? level).name
        status = a.status.rawValue
        value = a.value
        threshold = a.threshold
        raised_at = time(a.raisedAt)!
        raised_ts = a.raisedAt
        updated_at = time(a.updatedAt)!
        late = a.late
        title = a.title
        message = a.message
        instruction = rule?.instruction
        acknowledged_by = a.acknowledgedBy
        acknowledged_at = time(a.acknowledgedAt)
        resolved_by = a.resolvedBy
        resolved_at = time(a.resolvedAt)
        closed_by = a.closedBy
        closed_at = time(a.closedAt)
        contact_tier = a.contactTier
        if let t = transition {
            event = t.kind.rawValue
            previous_level = t.fromLevel.flatMap { AlertLevel(stored: $0)?.name } ?? "none"
            at = time(t.at)
            by = t.by
            note = t.note
        }
    }

    /// Sorted-key JSON bytes.
    public func encoded() -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? Array(encoder.encode(self))) ?? Array("{}".utf8)
    }
}

/// One transition as JSON.
public struct TransitionJSON: Encodable, Sendable {
    public var id: Int64
    public var kind: String
    public var from_level: String?
    public var to_level: String?
    public var status: String
    public var value: Double?
    public var at: String
    public var recorded_at: String
    public var by: String
    public var note: String?
    public var late: Bool

    public init(_ t: AlertTransition, offsetMinutes: Int = 480) {
        id = t.id
        kind = t.kind.rawValue
        from_level = t.fromLevel.map { AlertLevel(stored: $0)?.name ?? "none" }
        to_level = t.toLevel.map { AlertLevel(stored: $0)?.name ?? "none" }
        status = t.status.rawValue
        value = t.value
        at = LocalTime.format(t.at, offsetMinutes: offsetMinutes)
        recorded_at = LocalTime.format(t.recordedAt, offsetMinutes: offsetMinutes)
        by = t.by
        note = t.note
        late = t.late
    }
}
