import Foundation
import ShennongAlerts
import ShennongAPI
import ShennongCore

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
