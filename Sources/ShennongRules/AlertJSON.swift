import Foundation
import ShennongAlerts
import ShennongAPI
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

/// An alert's JSON as notifiers publish and POST it: the contract's ``API/Alert``.
public typealias AlertJSON = API.Alert

extension API.Alert {
    /// The alert as the API answers it and notifiers send it, times in local time at
    /// `offsetMinutes`.
    ///
    /// With a transition (a notifier's message, the answer to a person's action) it also says
    /// what just happened (`event`), the level before, who and when.
    public init(_ a: AlertRecord, rule: Rule?, transition: AlertTransition? = nil, offsetMinutes: Int = 480) {
        func time(_ ms: Int64?) -> String? { ms.map { LocalTime.format($0, offsetMinutes: offsetMinutes) } }
        let level = a.level
        self.init(
            id: a.id, rule: a.rule, ruleName: rule?.name, device: a.device, domain: a.domain, metric: a.metric,
            level: level.name, levelZh: level.chineseName, grade: level.roman,
            peakLevel: a.peakLevel.name, status: a.status.rawValue, value: a.value,
            threshold: a.threshold, raisedAt: LocalTime.format(a.raisedAt, offsetMinutes: offsetMinutes),
            raisedTs: a.raisedAt, updatedAt: LocalTime.format(a.updatedAt, offsetMinutes: offsetMinutes), late: a.late,
            title: a.title, message: a.message, instruction: rule?.instruction, acknowledgedBy: a.acknowledgedBy,
            acknowledgedAt: time(a.acknowledgedAt), resolvedBy: a.resolvedBy, resolvedAt: time(a.resolvedAt),
            closedBy: a.closedBy, closedAt: time(a.closedAt), contactTier: a.contactTier)
        if let t = transition {
            event = t.kind.rawValue
            previousLevel = t.fromLevel?.alertLevel?.name ?? "none"
            at = time(t.at)
            by = t.by
            note = t.note
        }
    }

    /// The API's JSON bytes (sorted keys): the body published on MQTT and POSTed to webhooks.
    public func encoded() -> [UInt8] {
        (try? Array(APICoding.encode(self))) ?? Array("{}".utf8)
    }
}

extension API.Transition {
    /// One transition of an alert, times in local time at `offsetMinutes`.
    public init(_ t: AlertTransition, offsetMinutes: Int = 480) {
        self.init(
            id: t.id, kind: t.kind.rawValue, fromLevel: t.fromLevel.map { $0.alertLevel?.name ?? "none" },
            toLevel: t.toLevel.map { $0.alertLevel?.name ?? "none" }, status: t.status.rawValue, value: t.value,
            at: LocalTime.format(t.at, offsetMinutes: offsetMinutes),
            recordedAt: LocalTime.format(t.recordedAt, offsetMinutes: offsetMinutes), by: t.by, note: t.note, late: t.late)
    }
}
