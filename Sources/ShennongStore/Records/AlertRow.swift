import GRDB
import ShennongAlerts

/// A row of `alerts`. Levels are the integer columns (1 blue … 4 red), mapped to
/// ``AlertLevel`` here, at the store's edge; a level outside 1…4 (never written by Shennong)
/// reads as blue.
struct AlertRow: Codable, SnakeCaseColumns, FetchableRecord, MutablePersistableRecord {
    static let databaseTableName = "alerts"

    var id: Int64?
    var rule: String
    var device: String
    var domain: String
    var metric: String?
    var level: Int
    var peakLevel: Int
    var status: String
    var value: Double?
    var threshold: Double?
    var raisedAt: Int64
    var updatedAt: Int64
    var late: Bool
    var title: String
    var message: String
    var acknowledgedBy: String?
    var acknowledgedAt: Int64?
    var resolvedBy: String?
    var resolvedAt: Int64?
    var closedBy: String?
    var closedAt: Int64?
    var contactTier: Int
    var notifiedAt: Int64

    /// The row of `a`; `id: nil` (a new alert) when `a` has none yet.
    init(_ a: AlertRecord) {
        id = a.id == 0 ? nil : a.id
        rule = a.rule
        device = a.device
        domain = a.domain
        metric = a.metric
        level = a.level.rawValue
        peakLevel = a.peakLevel.rawValue
        status = a.status.rawValue
        value = a.value
        threshold = a.threshold
        raisedAt = a.raisedAt
        updatedAt = a.updatedAt
        late = a.late
        title = a.title
        message = a.message
        acknowledgedBy = a.acknowledgedBy
        acknowledgedAt = a.acknowledgedAt
        resolvedBy = a.resolvedBy
        resolvedAt = a.resolvedAt
        closedBy = a.closedBy
        closedAt = a.closedAt
        contactTier = a.contactTier
        notifiedAt = a.notifiedAt
    }

    var alert: AlertRecord {
        let level = AlertLevel(stored: level) ?? .blue
        return AlertRecord(
            id: id ?? 0, rule: rule, device: device, domain: domain, metric: metric, level: level,
            peakLevel: AlertLevel(stored: peakLevel) ?? level, status: AlertStatus(rawValue: status) ?? .open, value: value,
            threshold: threshold, raisedAt: raisedAt, updatedAt: updatedAt, late: late, title: title, message: message,
            acknowledgedBy: acknowledgedBy, acknowledgedAt: acknowledgedAt, resolvedBy: resolvedBy, resolvedAt: resolvedAt,
            closedBy: closedBy, closedAt: closedAt, contactTier: contactTier, notifiedAt: notifiedAt)
    }

    mutating func didInsert(_ inserted: InsertionSuccess) {
        id = inserted.rowID
    }
}

/// A row of `alert_transitions`. `from_level` is NULL for a raise (nothing before) and 0 for
/// none (`to_level` of a resolve by the system).
struct AlertTransitionRow: Codable, SnakeCaseColumns, FetchableRecord, MutablePersistableRecord {
    static let databaseTableName = "alert_transitions"

    var id: Int64?
    var alertId: Int64
    var kind: String
    var fromLevel: Int?
    var toLevel: Int?
    var status: String
    var value: Double?
    var at: Int64
    var recordedAt: Int64
    var by: String
    var note: String?
    var late: Bool
    /// The alert right after this transition (``AlertRecord/snapshot``; Store+Notifications.swift).
    var alertSnapshot: String?

    init(_ t: AlertTransition) {
        id = t.id == 0 ? nil : t.id
        alertId = t.alertID
        kind = t.kind.rawValue
        fromLevel = t.fromLevel.map(Self.stored)
        toLevel = t.toLevel.map(Self.stored)
        status = t.status.rawValue
        value = t.value
        at = t.at
        recordedAt = t.recordedAt
        by = t.by
        note = t.note
        late = t.late
    }

    var transition: AlertTransition {
        AlertTransition(
            id: id ?? 0, alertID: alertId, kind: AlertTransitionKind(rawValue: kind) ?? .raised,
            fromLevel: fromLevel.map(Self.level), toLevel: toLevel.map(Self.level),
            status: AlertStatus(rawValue: status) ?? .open, value: value, at: at, recordedAt: recordedAt, by: by,
            note: note, late: late)
    }

    mutating func didInsert(_ inserted: InsertionSuccess) {
        id = inserted.rowID
    }

    /// A transition level as its column stores it (0: none).
    static func stored(_ level: TransitionLevel) -> Int {
        level.alertLevel?.rawValue ?? 0
    }

    /// A transition level column's value (0 and unknown values: none).
    static func level(_ stored: Int) -> TransitionLevel {
        TransitionLevel(AlertLevel(stored: stored))
    }
}

/// A row of `rule_state` (read once at start; written per burst with a cached statement).
struct RuleStateRow: Codable, SnakeCaseColumns, FetchableRecord, TableRecord {
    static let databaseTableName = "rule_state"

    var rule: String
    var device: String
    /// 0: none.
    var level: Int
    var watermark: Int64
    var state: String
    var updatedAt: Int64

    var record: RuleStateRecord {
        RuleStateRecord(
            rule: rule, device: device, level: AlertLevel(stored: level), watermark: watermark, state: state,
            updatedAt: updatedAt)
    }
}
